import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

/// The built `clearml-probe` next to the test bundle.
enum Binary {
    static let path: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "clearml-probe"
        ).path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return Repository.path(".build/debug/clearml-probe")
    }()

    /// Runs a short command and returns its exit status and stdout + stderr.
    static func run(_ arguments: [String], env: [String: String] = [:], timeout: Double = 15) throws -> (Int32, String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A real `clearml-probe serve` child against the ClearML double: what the container runtime sees.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ServeProcessTests {
    static let double = try! PythonDouble("clearml_double.py")

    static func serve(port: Int, state: TempDirectory, extra: [String: String] = [:]) throws -> TestProcess {
        var env = [
            "CLEARML_PROBE_APISERVER_URL": double.url("api").absoluteString,
            "CLEARML_PROBE_WEBSERVER_URL": double.url("web").absoluteString,
            "CLEARML_PROBE_FILESERVER_URL": double.url("files").absoluteString,
            "CLEARML_PROBE_INTERVAL": "200ms", "CLEARML_PROBE_TIMEOUT": "1s",
            "CLEARML_PROBE_STATE_DIR": state.path,
            "CLEARML_API_ACCESS_KEY": "probe-key", "CLEARML_API_SECRET_KEY": "probe-secret",
            "CLEARML_PROBE_CONFIG": "",
        ]
        for (key, value) in extra { env[key] = value }
        let process = try TestProcess(
            "serve", executable: Binary.path,
            arguments: [
                "serve", "--listen", "127.0.0.1:\(port)", "--only", "apiserver.ping", "--only", "webserver.ui",
                "--only", "apiserver.auth",
            ],
            env: env, currentDirectory: state.path)
        try Ports.waitListening(port)
        return process
    }

    static func status(_ port: Int) async -> JSONValue? {
        let request = HTTPRequest(
            url: URL(string: "http://127.0.0.1:\(port)/status")!, timeout: 3, maxBodyBytes: 1 << 20)
        guard case .success(let response) = await HTTPClient().perform(request) else { return nil }
        return JSONValue.parse(response.body)
    }

    static func waitCycles(_ port: Int, atLeast count: Int, timeout: Double = 15) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let document = await status(port), (document.at("sidecar.cycles")?.int ?? 0) >= count { return document }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestSupportError("no \(count) cycles within \(timeout) s")
    }

    @Test func sigtermStopsGracefullyWritesStateAndHealthcheckFollows() async throws {
        try await Self.double.control("/reset", [:])
        let state = try TempDirectory("serve-state")
        defer { state.remove() }
        let port = Ports.free()
        let closed = Ports.closed()
        let serve = try Self.serve(
            port: port, state: state,
            extra: [
                "CLEARML_PROBE_HEARTBEAT_URL": "http://127.0.0.1:\(closed)/ping/HEARTBEAT-TOKEN-123"
            ])
        let document = try await Self.waitCycles(port, atLeast: 3)
        #expect(document["status"]?.string == "ok")
        let keys = document["checks"]?.array?.compactMap { $0["key"]?.string } ?? []
        #expect(keys.contains("apiserver.ping"))
        #expect(keys.contains { $0.hasPrefix("webserver.ui") })

        let (healthy, healthyOutput) = try Binary.run(["healthcheck", "--url", "http://127.0.0.1:\(port)/healthz"])
        #expect(healthy == 0, "\(healthyOutput)")
        let (fromEnv, _) = try Binary.run(["healthcheck"], env: ["CLEARML_PROBE_LISTEN": "0.0.0.0:\(port)"])
        #expect(fromEnv == 0, "healthcheck reads CLEARML_PROBE_LISTEN and asks loopback")
        // The token comes from where the sidecar reads it, the Docker secret's file too; a file it cannot read is
        // named, not ignored.
        let (badFile, badFileOutput) = try Binary.run(
            ["healthcheck", "--url", "http://127.0.0.1:\(port)/healthz"],
            env: ["CLEARML_PROBE_HTTP_TOKEN_FILE": "/nonexistent/probe-token"])
        #expect(badFile != 0)
        #expect(
            badFileOutput.contains(
                "CLEARML_PROBE_HTTP_TOKEN_FILE names '/nonexistent/probe-token', which cannot be read"),
            "\(badFileOutput)")

        let start = Date()
        kill(serve.process.processIdentifier, SIGTERM)
        while serve.process.isRunning && Date().timeIntervalSince(start) < 10 { usleep(20_000) }
        let took = Date().timeIntervalSince(start)
        #expect(!serve.process.isRunning)
        serve.process.waitUntilExit()
        #expect(serve.process.terminationStatus == 0, "\(serve.stderrTail())")
        #expect(took < 1 + 0.25 + 1.5, "graceful shutdown took \(took) s")
        #expect(FileManager.default.fileExists(atPath: state.file("probe-state.json")))

        let (stopped, stoppedOutput) = try Binary.run([
            "healthcheck", "--url", "http://127.0.0.1:\(port)/healthz", "--timeout", "1",
        ])
        #expect(stopped == 1, "\(stoppedOutput)")
        #expect(stoppedOutput.contains("unhealthy"))

        let log = serve.stderrTail(100_000)
        #expect(log.contains("probe.check=apiserver.ping"))
        #expect(log.contains("heartbeat failed"))
        #expect(!log.contains("HEARTBEAT-TOKEN-123"), "the heartbeat URL's token leaked into the log")
        #expect(!log.contains("probe-secret"))
    }

    @Test func aFailingServiceIsReportedAndTheProcessStaysUp() async throws {
        try await Self.double.control("/reset", [:])
        try await Self.double.control("/scenario", ["api": "down"])
        let state = try TempDirectory("serve-state")
        defer { state.remove() }
        let port = Ports.free()
        let serve = try Self.serve(port: port, state: state)
        defer { serve.stop() }
        let document = try await Self.waitCycles(port, atLeast: 2)
        #expect(document["status"]?.string == "critical")
        #expect(document["root_causes"]?.array?.first?.string == "apiserver.ping")
        let (healthy, _) = try Binary.run(["healthcheck", "--url", "http://127.0.0.1:\(port)/healthz"])
        #expect(healthy == 0, "a failing ClearML is not a failing sidecar")
        try await Self.double.control("/reset", [:])
    }

    @Test func aTakenPortIsAnErrorAtStart() throws {
        let state = try TempDirectory("serve-state")
        defer { state.remove() }
        let port = Ports.free()
        let first = try Self.serve(port: port, state: state)
        defer { first.stop() }
        let (status, output) = try Binary.run(
            ["serve", "--listen", "127.0.0.1:\(port)"], env: ["CLEARML_PROBE_STATE_DIR": state.path])
        #expect(status == 1)
        #expect(output.contains("cannot listen on 127.0.0.1:\(port)"))
    }

    @Test func badSidecarSettingsExit3() throws {
        let (status, output) = try Binary.run(["serve", "--listen", "nonsense"])
        #expect(status == 3)
        #expect(output.contains("HOST:PORT"))
    }
}
