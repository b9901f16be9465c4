import Foundation
import ProbeCore

/// `silences.json` in the state directory. Every change happens under an exclusive lock on `silences.lock` (so the
/// CLI and the sidecar never write it at once) and is written atomically (a crash leaves the old or the new file).
public struct SilenceStore: Sendable {
    public static let fileName = "silences.json"
    public static let lockName = "silences.lock"

    public let directory: String
    public var path: String { directory + "/" + Self.fileName }
    var lockPath: String { directory + "/" + Self.lockName }
    /// How long a writer waits for the lock before giving up.
    public var lockTimeout: Double

    public init(directory: String, lockTimeout: Double = 5) {
        self.directory = directory
        self.lockTimeout = lockTimeout
    }

    public struct StoreError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The silences on disk; none when there is no file yet.
    public func load() throws -> Silences {
        guard FileManager.default.fileExists(atPath: path) else { return Silences() }
        do {
            return try Silences.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw StoreError(description: "\(path): cannot read the silences (\(error)); fix or move the file aside")
        }
    }

    /// Reads, changes and writes the silences under the lock; returns what `change` returned.
    public func update<T>(_ change: (inout Silences) throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(description: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(lockTimeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                throw StoreError(
                    description: "\(lockPath) is held by another process for more than \(Int(lockTimeout)) s")
            }
            usleep(20_000)
        }
        defer { flock(fd, LOCK_UN) }
        var silences = try load()
        let result = try change(&silences)
        try AtomicFile.write(try silences.encoded(), to: path)
        return result
    }
}
