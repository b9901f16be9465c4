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
    public init(
        _ name: String, executable: String, arguments: [String], env: [String: String] = [:],
        currentDirectory: String? = nil, asUser: String? = nil
    ) throws {
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
        try SpawnerThread.shared.run(process)
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
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                    object["ready"] as? Bool == true
                {
                    return object
                }
            }
        }
        throw TestSupportError("\(name) did not become ready: \(stderrTail())")
    }

    /// The ports a double announced in its ready line.
    public func waitPorts(timeout: Double = 20) throws -> [String: Int] {
        let ready = try waitReady(timeout: timeout)
        guard let ports = ready["ports"] as? [String: Any] else {
            throw TestSupportError("\(name): no ports in ready line")
        }
        return ports.compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    public func stderrTail(_ count: Int = 2000) -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return String(text.suffix(count))
    }

    public func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let children = descendants(of: pid)
        // The doubles exit when stdin closes; servers get SIGTERM; anything still there after a second is killed.
        try? stdinPipe.fileHandleForWriting.close()
        process.terminate()
        // Foundation notices the exit only when its SIGCHLD handler runs on a global queue, which shares the
        // cooperative pool's threads: under load `isRunning` lags. A zombie has exited already.
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && !Self.hasExited(pid) && Date() < deadline { usleep(5_000) }
        if process.isRunning && !Self.hasExited(pid) { kill(pid, SIGKILL) }
        // Whatever the server started itself (forked workers) ends with it.
        for child in children { kill(child, SIGKILL) }
    }

    /// The server's own children and theirs, read from /proc before it is stopped (once it is gone they are
    /// re-parented and can no longer be told apart).
    private func descendants(of root: Int32) -> [Int32] {
        var parents: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.range(of: ") ", options: .backwards)
            else { continue }
            let fields = stat[close.upperBound...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[parent, default: []].append(pid) }
        }
        var found: [Int32] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in parents[next] ?? [] where !found.contains(child) {
                found.append(child)
                queue.append(child)
            }
        }
        return found
    }

    /// True when `pid` is gone or a zombie (`/proc/<pid>/stat` state `Z`).
    static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.range(of: ") ", options: .backwards)
        else { return true }
        return stat[close.upperBound...].hasPrefix("Z")
    }

    deinit { stop() }
}

/// `setpriv --pdeathsig` ties a child's life to the *thread* that spawned it (PR_SET_PDEATHSIG), and Swift's pool
/// retires idle threads: a server started from a pool thread can be killed in the middle of a suite or a benchmark.
/// Every child is therefore spawned from this one thread, which lives as long as the process and leaves the
/// termination signals unblocked for its children.
final class SpawnerThread: @unchecked Sendable {
    // @unchecked: `jobs` is only touched while holding `condition`.
    static let shared = SpawnerThread()

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "clearml-probe.test-spawner"
        thread.start()
    }

    private func loop() {
        // Children inherit the spawning thread's signal mask, and pool threads block SIGTERM: a server spawned
        // from one ignores `terminate()` until `stop()` falls back to SIGKILL seconds later. Unblock the
        // termination signals here so every child starts with them deliverable.
        var termination = sigset_t()
        sigemptyset(&termination)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&termination, signal) }
        pthread_sigmask(SIG_UNBLOCK, &termination, nil)
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Starts `process` from the spawner thread and waits for the outcome.
    func run(_ process: Process) throws {
        final class Outcome: @unchecked Sendable {
            // @unchecked: written by the spawner before `done` is signalled, read after.
            var error: Error?
            let done = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        condition.lock()
        jobs.append {
            do { try process.run() } catch { outcome.error = error }
            outcome.done.signal()
        }
        condition.signal()
        condition.unlock()
        outcome.done.wait()
        if let error = outcome.error { throw error }
    }
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

/// What a test needs from outside itself (a built binary, a tool). Missing, the test says so; under CI (the `CI`
/// variable set) a missing prerequisite is an error, so a test that cannot run never passes by not running.
public enum Prerequisite {
    public static var inCI: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }

    /// True when `path` is an executable file. Otherwise prints why the test does not run and returns false, or, in CI,
    /// throws.
    public static func executable(_ path: String, build: String = "swift build") throws -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        let reason = "\(path) is not built (run `\(build)`), so this test cannot run"
        if inCI { throw TestSupportError(reason) }
        print("skipped: \(reason)")
        return false
    }

    /// For `.enabled(if:)`: run when `path` is executable, and always in CI (where the test then fails on it).
    public static func runs(_ path: String) -> Bool {
        inCI || FileManager.default.isExecutableFile(atPath: path)
    }
}
