import Foundation

/// A server started by a test: it dies with the test process (`setpriv --pdeathsig KILL`), its stdin stays open
/// (the Python doubles exit when it closes), and `stop()` ends it early.
public final class TestProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are set once in init and only read afterwards.
    public let process: Process
    public let name: String
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPath: String

    /// Starts `executable` with `arguments`. `env` adds to the inherited environment.
    public init(_ name: String, executable: String, arguments: [String], env: [String: String] = [:],
                currentDirectory: String? = nil, asUser: String? = nil) throws {
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        var args = ["--pdeathsig", "KILL"]
        if let asUser { args += ["--reuid", asUser, "--regid", asUser, "--clear-groups"] }
        process.arguments = args + [executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        stderrPath = NSTemporaryDirectory() + "clearml-probe-test-\(name)-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    /// Reads stdout lines until one parses as JSON with `"ready": true`; returns it.
    public func waitReady(timeout: Double = 20) throws -> [String: Any] {
        let handle = stdoutPipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = Data()
        while Date() < deadline {
            let chunk = handle.availableDataOrWait(until: deadline)
            if chunk.isEmpty {
                if !process.isRunning { break }
                continue
            }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object["ready"] as? Bool == true {
                    return object
                }
            }
        }
        throw TestSupportError("\(name) did not become ready: \(stderrTail())")
    }

    /// The ports a double announced in its ready line.
    public func waitPorts(timeout: Double = 20) throws -> [String: Int] {
        let ready = try waitReady(timeout: timeout)
        guard let ports = ready["ports"] as? [String: Any] else { throw TestSupportError("\(name): no ports in ready line") }
        return ports.compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    public func stderrTail(_ count: Int = 2000) -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return String(text.suffix(count))
    }

    public func stop() {
        guard process.isRunning else { return }
        // The doubles exit when stdin closes; servers get SIGTERM; anything still there after a second is killed.
        try? stdinPipe.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

extension FileHandle {
    /// Waits for data up to a deadline without blocking forever on a silent child.
    func availableDataOrWait(until deadline: Date) -> Data {
        var pollDescriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(500, deadline.timeIntervalSinceNow * 1000)))
        guard poll(&pollDescriptor, 1, milliseconds) > 0 else { return Data() }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(fileDescriptor, &bytes, bytes.count)
        return count > 0 ? Data(bytes[0..<count]) : Data()
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
