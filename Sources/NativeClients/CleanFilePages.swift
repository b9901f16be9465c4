import Foundation

/// Unmaps the clean, read-only file pages of the executable and of the libraries it was started with, so that only
/// the pages the sidecar keeps using are mapped again.
///
/// The kernel maps file pages around every page a process touches (64 KB of fault-around, whole large folios of the
/// page cache), and start-up touches code all over a static Swift binary (config parsing, argument parsing, the
/// templates). Those pages stay mapped, and counted in RSS, long after start-up. `MADV_DONTNEED` on a private file
/// mapping that holds no private copy of a page (smaps `Anonymous: 0 kB`) only drops page-table entries: the page
/// cache keeps the pages, and the next access maps the same bytes again with a minor fault. It is never applied to
/// a writable mapping, to one with a private page (RELRO, relocated data), or to a library loaded after start (one
/// that could be unloaded and its addresses reused): the executable's own mappings and its start-up libraries stay
/// where they are for the life of the process. Measured effect: docs/resident-memory.md.
public enum CleanFilePages {
    /// One mapping of `/proc/self/smaps`.
    public struct Mapping: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var permissions: String
        public var path: String
        public var residentKB: Int
        /// Private pages resident (copies made on write: relocated data, RELRO). Nil when smaps did not say.
        public var anonymousKB: Int?
        /// Private pages swapped out: `Anonymous` does not count them. Nil when smaps did not say.
        public var swapKB: Int?

        public init(
            start: UInt, end: UInt, permissions: String, path: String, residentKB: Int = 0, anonymousKB: Int? = nil,
            swapKB: Int? = nil
        ) {
            self.start = start
            self.end = end
            self.permissions = permissions
            self.path = path
            self.residentKB = residentKB
            self.anonymousKB = anonymousKB
            self.swapKB = swapKB
        }
    }

    /// What one release did.
    public struct Release: Equatable, Sendable {
        public var mappings: Int
        /// The files whose mappings were released.
        public var files: Set<String>
        /// The resident size of the released mappings just before (what was unmapped).
        public var releasedKB: Int
        /// Mappings the kernel refused (`madvise` failed), by path.
        public var refused: [String]
    }

    /// The files mapped when the process started: the executable and the libraries the dynamic loader mapped.
    /// Read once, at the first call (`serve` calls `recordStartupFiles()` first, before anything can `dlopen`).
    private static let startupFiles: Set<String> = Set(
        parse(smaps: ownSmaps() ?? "").map(\.path).filter { $0.hasPrefix("/") })

    /// `/proc/self/smaps`, read to its end.
    static func ownSmaps() -> String? { procFile("/proc/self/smaps") }

    /// A proc file read to its end. It reports size 0, and Foundation's whole-file readers stop at the first page or
    /// two of it; `read(2)` in a loop gets all of it.
    static func procFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Remembers which files are mapped now, so that later releases know the start-up libraries.
    public static func recordStartupFiles() { _ = startupFiles }

    /// Parses `/proc/<pid>/smaps`: each mapping's range, permissions, path, `Rss`, `Anonymous` and `Swap`. The
    /// field lines after a header that does not parse are dropped with it, never given to the mapping before.
    public static func parse(smaps: String) -> [Mapping] {
        var mappings: [Mapping] = []
        var current = false
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard current, fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
                switch first {
                case "Rss:": mappings[mappings.count - 1].residentKB = kilobytes
                case "Anonymous:": mappings[mappings.count - 1].anonymousKB = kilobytes
                case "Swap:": mappings[mappings.count - 1].swapKB = kilobytes
                default: break
                }
                continue
            }
            current = false
            let bounds = first.split(separator: "-")
            guard fields.count >= 5, bounds.count == 2, let start = UInt(bounds[0], radix: 16),
                let end = UInt(bounds[1], radix: 16), end > start
            else { continue }
            let path = fields.count > 5 ? fields[5...].joined(separator: " ") : ""
            mappings.append(Mapping(start: start, end: end, permissions: String(fields[1]), path: path))
            current = true
        }
        return mappings
    }

    /// Whether a mapping may be released: a private, non-writable mapping of a file mapped since start-up, with
    /// no private (copied-on-write) page, resident or swapped out, and something resident. A private page swapped
    /// out is not in `Anonymous`: releasing its mapping would bring back the file's bytes in its place.
    public static func releasable(_ mapping: Mapping, startupFiles: Set<String>) -> Bool {
        let permissions = Array(mapping.permissions)
        guard permissions.count == 4, permissions[1] == "-", permissions[3] == "p" else { return false }
        guard mapping.path.hasPrefix("/"), !mapping.path.hasSuffix(" (deleted)") else { return false }
        return startupFiles.contains(mapping.path) && mapping.anonymousKB == 0 && mapping.swapKB == 0
            && mapping.residentKB > 0
    }

    /// Whether a debugger or tracer is attached (`TracerPid` in /proc/self/status): it may be writing a breakpoint
    /// into the code at this moment, and a release right after the write would undo it.
    static func traced() -> Bool {
        guard let status = procFile("/proc/self/status") else { return true }
        for line in status.split(separator: "\n") where line.hasPrefix("TracerPid:") {
            return line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) != "0" } ?? true
        }
        return true
    }

    /// Releases every releasable mapping of this process; nothing while a tracer is attached.
    public static func release() -> Release {
        let files = startupFiles
        var outcome = Release(mappings: 0, files: [], releasedKB: 0, refused: [])
        guard !traced(), let text = ownSmaps() else { return outcome }
        for mapping in parse(smaps: text) where releasable(mapping, startupFiles: files) {
            let address = UnsafeMutableRawPointer(bitPattern: mapping.start)
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 {
                outcome.mappings += 1
                outcome.files.insert(mapping.path)
                outcome.releasedKB += mapping.residentKB
            } else {
                outcome.refused.append(mapping.path)
            }
        }
        return outcome
    }
}
