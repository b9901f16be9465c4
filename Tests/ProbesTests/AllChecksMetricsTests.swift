import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// `/metrics` of a real pass over EVERY check (ClearML double, redis-server, the MongoDB and Elasticsearch doubles),
/// with every result kind present, is accepted by Prometheus' own linter.
@Suite(.serialized)
struct AllChecksMetricsTests {
    static let promtool = "/usr/bin/promtool"

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: promtool), "needs promtool (Debian package prometheus)"))
    func promtoolAcceptsTheMetricsOfEveryCheck() async throws {
        let clearml = try await offPool { try ClearMLDoubleFixture() }
        defer { clearml.stop() }
        let redis = try await offPool { try RedisServer() }
        defer { redis.stop() }
        let mongo = try await offPool {
            try PythonDouble("mongo_double.py", arguments: ["--scenario", "write_concern_error"])
        }
        defer { mongo.stop() }
        let es = try await offPool { try PythonDouble("es_double.py") }
        defer { es.stop() }
        try await es.control("/scenario", ["scenario": "yellow"])
        // 400 workers: agents.workers reads them (16 MB cap), queues.backlog is capped at 64 KB and cannot (unknown).
        let workers = (0..<400).map {
            ["id": "w\($0)", "queues": ["services"], "last_activity_time": NSNull()] as [String: Any]
        }
        try await clearml.state(["workers": workers])

        let checks =
            ClearMLDoubleFixture.allChecks + """

                  queues.backlog:
                    max_reply: 64kb
                  ingress.tls: {}
                  ingress.headers: {}
                  mongo.ping: {}
                  mongo.write: {}
                  mongo.status: {}
                  redis.latency: {}
                  redis.write: {}
                  redis.status: {}
                  elasticsearch.health: {}
                """
        let yaml =
            clearml.yaml(checks: checks.replacingOccurrences(of: "  queues.backlog: {}\n", with: "")) + """

                mongo:
                  uri: mongodb://127.0.0.1:\(mongo.port("mongo"))/
                redis:
                  host: 127.0.0.1
                  port: \(redis.port)
                elasticsearch:
                  host: 127.0.0.1
                  port: \(es.port("es"))
                """
        let loaded = try LoadedConfig.fromYAML(yaml, file: "all.yaml")
        let report = await Engine(loaded: loaded).run(
            selection: Selection(ids: Set(CheckID.allCases)), readOnly: false,
            state: ProbeState())
        let statuses = Set(report.results.map(\.status))
        #expect(statuses == Set(Status.allCases), "\(report.results.map { "\($0.key) \($0.status): \($0.summary)" })")
        #expect(!report.notChecked.isEmpty, "ingress.tls over plain HTTP is not configured")
        #expect(Set(report.results.map(\.id)).count == CheckID.allCases.count - report.notChecked.count)

        let text = MetricsExposition.render(
            StatusSnapshot(report: report), health: HealthVerdict(alive: true, reason: "ok"))
        let (status, output) = try MetricsExpositionLint.run(Self.promtool, ["check", "metrics"], input: text)
        #expect(status == 0, "promtool: \(output)")
        #expect(output.isEmpty, "promtool: \(output)")
        for name in [
            "redis_status_uptime_seconds", "mongo_status_uptime_seconds", "elasticsearch_health_uptime_seconds",
            "apiserver_auth_token_age_seconds",
        ] {
            #expect(text.contains("clearml_probe_\(name){"), "\(name) missing")
        }
    }
}
