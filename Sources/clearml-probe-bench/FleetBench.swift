import ArgumentParser
import Foundation
import NativeClients
import ProbeCore
import Probes
import Runtime
import TestSupport

/// `fleet`: one evaluation of `agents.workers` + `queues.backlog` against the local ClearML double answering a
/// real-size fleet, at several sizes. Each size runs in a child process of its own, so its peak RSS is its own.
struct FleetBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "agents.workers + queues.backlog at 1,000 / 5,000 / 20,000 workers.")

    @Option(help: "Sizes as workers:queues, comma separated.")
    var sizes = "1000:200,5000:1000,20000:2000"

    @Option(help: "Internal: measure one size (workers:queues) in this process and print one JSON line.")
    var one: String?

    func run() async throws {
        if let one { return try await measure(one) }
        print(
            "One evaluation of agents.workers + queues.backlog against the local double (release build; each size in its own process)"
        )
        print(
            "| workers | queues | workers.get_all | wall ms | probe CPU ms | peak RSS MB | above idle MB | verdicts |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        for size in sizes.split(separator: ",") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["fleet", "--one", String(size)]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard let line = String(data: data, encoding: .utf8)?.split(separator: "\n").last,
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                print("| \(size) | failed: \(String(decoding: data, as: UTF8.self)) |")
                continue
            }
            func n(_ key: String) -> Double { (json[key] as? NSNumber)?.doubleValue ?? .nan }
            print(
                "| \(Int(n("workers"))) | \(Int(n("queues"))) | \(String(format: "%.1f MB", n("reply_mb"))) | \(format(n("wall_ms"))) | "
                    + "\(format(n("cpu_ms"))) | \(String(format: "%.1f", n("peak_mb"))) | \(String(format: "%.1f", n("above_idle_mb"))) | "
                    + "\(json["verdicts"] as? String ?? "?") |")
        }
    }

    func measure(_ size: String) async throws {
        let parts = size.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("size '\(size)' is not workers:queues") }
        let clearml = try PythonDouble("clearml_double.py", arguments: ["--access-key", "K", "--secret-key", "S"])
        defer { clearml.stop() }
        _ = try await clearml.control("/fleet", ["workers": parts[0], "queues": parts[1]])
        let yaml = """
            probe:
              timeout: 30s
            services:
              apiserver_url: http://127.0.0.1:\(clearml.port("api"))
            credentials:
              access_key: K
              secret_key: S
            checks:
              agents.workers:
                max_reply: 64mb
              queues.backlog:
                max_reply: 64mb
            """
        let loaded = try LoadedConfig.load(
            yaml: yaml, file: "bench.yaml", substitution: EnvironmentSubstitution(environment: [:]))
        let engine = Engine(loaded: loaded)
        let state = ProbeState()
        // Log in once (the token is reused like in the sidecar), then measure from an idle, warmed-up process.
        _ = await engine.run(selection: Selection(ids: [.apiserverAuth]), readOnly: true, state: state)
        let idle = Self.rss()
        let cpuBefore = ProcessStats.current()?.cpuSeconds ?? 0
        let start = ContinuousClock.now
        let report = await engine.run(
            selection: Selection(ids: [.agentsWorkers, .queuesBacklog]), readOnly: true, state: state)
        let wall = start.duration(to: .now).milliseconds
        let cpu = ((ProcessStats.current()?.cpuSeconds ?? 0) - cpuBefore) * 1000
        let peak = Self.rss(field: "VmHWM:")
        var counts: [Status: Int] = [:]
        for result in report.results { counts[result.status, default: 0] += 1 }
        let verdicts = Status.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
            .joined(separator: ", ")
        let reply = try await clearml.double_replySize()
        let line: [String: Any] = [
            "workers": parts[0], "queues": parts[1], "wall_ms": wall, "cpu_ms": cpu, "peak_mb": peak / 1e6,
            "above_idle_mb": (peak - idle) / 1e6, "verdicts": verdicts, "reply_mb": reply / 1e6,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self))
    }

    /// VmRSS (or another /proc/self/status field) in bytes.
    static func rss(field: String = "VmRSS:") -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return .nan }
        return kb * 1024
    }
}

extension PythonDouble {
    /// Size of the fleet's workers.get_all reply, for the table.
    func double_replySize() async throws -> Double {
        let token = (try await control("/token", [String: Any]()) as? [String: Any])?["token"] as? String ?? ""
        let request = HTTPRequest(
            method: "POST", url: url("api").appendingPathComponent("workers.get_all"),
            headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(token)")],
            body: Data(#"{"last_seen": 600}"#.utf8), timeout: 60, maxBodyBytes: 1)
        guard case .success(let response) = await HTTPClient().perform(request) else { return .nan }
        return Double(response.body.count + response.droppedBodyBytes)
    }
}
