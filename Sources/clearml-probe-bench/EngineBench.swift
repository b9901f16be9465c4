import ArgumentParser
import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport

/// `engine`: a full pass against the local ClearML double, wall time vs its slowest check: what the engine adds.
struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "Engine overhead of a full run (medians).")

    @Option(help: "Passes to measure.")
    var count = 200

    func run() async throws {
        let clearml = try PythonDouble("clearml_double.py", arguments: ["--access-key", "K", "--secret-key", "S"])
        defer { clearml.stop() }
        let yaml = """
            services:
              apiserver_url: http://127.0.0.1:\(clearml.port("api"))
              webserver_url: http://127.0.0.1:\(clearml.port("web"))
              fileserver_url: http://127.0.0.1:\(clearml.port("files"))
            ingress:
              web_url: http://127.0.0.1:\(clearml.port("web"))
              api_url: http://127.0.0.1:\(clearml.port("api"))
              files_url: http://127.0.0.1:\(clearml.port("files"))
            credentials:
              access_key: K
              secret_key: S
            """
        let loaded = try LoadedConfig.load(
            yaml: yaml, file: "bench.yaml", substitution: EnvironmentSubstitution(environment: [:]))
        let engine = Engine(loaded: loaded)
        for _ in 0..<5 { _ = await engine.run() }
        var walls: [Double] = []
        var overheads: [Double] = []
        var checks = 0
        for _ in 0..<count {
            let start = ContinuousClock.now
            let report = await engine.run(readOnly: true)
            let wall = start.duration(to: .now).milliseconds
            let slowest = report.results.map(\.durationMs).max() ?? 0
            walls.append(wall)
            overheads.append(wall - slowest)
            checks = report.results.count
        }
        print("Full run against the local ClearML double: \(checks) results per pass, \(count) passes (ms)")
        print("  wall:     median \(format(median(walls)))  p90 \(format(percentile(walls, 0.9)))")
        print(
            "  overhead: median \(format(median(overheads)))  p90 \(format(percentile(overheads, 0.9)))  (wall − slowest check; target < 20)"
        )
    }
}
