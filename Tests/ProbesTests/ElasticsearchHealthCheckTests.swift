import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

@testable import Probes

/// `elasticsearch.health` against es_double.py: every scenario, filter_path on every request, bounded faults.
@Suite(.serialized)
struct ElasticsearchHealthCheckTests {
    static let double: PythonDouble = try! PythonDouble("es_double.py")

    static var store: ElasticsearchStore { ElasticsearchStore(url: double.url("es")) }

    static func check(_ store: ElasticsearchStore = store, cache: Double = 0) -> ElasticsearchHealthCheck {
        ElasticsearchHealthCheck(store: store, settingsCache: cache)
    }

    static func scenario(_ body: [String: Any]) async throws {
        _ = try await offPool { Self.double }  // started off the pool (see `offPool`)
        try await double.control("/reset", [:])
        try await double.control("/scenario", body)
    }

    /// Every request the probe made carried filter_path.
    static func expectFilterPathEverywhere() async throws {
        let requests = try await double.requests()
        #expect(!requests.isEmpty)
        for request in requests {
            let params = request["params"] as? [String: Any] ?? [:]
            #expect(params["filter_path"] != nil, "no filter_path on \(request["uri"] ?? "?")")
            #expect(request["method"] as? String == "GET")
        }
    }

    @Test(arguments: [
        ("green", Status.ok, "Elasticsearch 8.17.0, green"),
        ("yellow", .warning, "cluster status yellow: 1 replica shard unassigned"),
        ("red", .critical, "cluster status red: 1 primary shard unassigned"),
        ("heap85", .warning, "JVM heap of clearml-es01 at 85 %"),
        ("heap95", .critical, "JVM heap of clearml-es01 at 95 %"),
        ("disk_percent", .critical, "below the flood-stage watermark (95% used, capped at 100 GB free)"),
        ("disk_absolute", .critical, "below the flood-stage watermark (500mb free)"),
        ("write_queue", .warning, "500 writes waiting in the write thread-pool queue of clearml-es01"),
        ("readonly", .critical, "read_only_allow_delete block on events-log-"),
        ("503", .critical, "no elected master"),
        ("garbage", .critical, "not JSON: this is not Elasticsearch"),
    ])
    func scenarios(name: String, expected: Status, words: String) async throws {
        try await Self.scenario(["scenario": name])
        let (result, seconds) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(result.status == expected, "\(name): \(result.summary)")
        #expect(result.summary.contains(words), "\(name): \(result.summary)")
        #expect(seconds < 2 + 0.5)
        try await Self.expectFilterPathEverywhere()
    }

    @Test func aLongWriteQueueIsCriticalAboveItsThreshold() async throws {
        try await Self.scenario(["scenario": "write_queue", "write_queue": 2500])
        let (result, _) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(result.status == .critical, "\(result.summary)")
        #expect(result.metrics["write_queue"] == 2500)
        try await Self.scenario(["scenario": "green"])
        let (healthy, _) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(healthy.status == .ok, "\(healthy.summary)")
        #expect(healthy.metrics["write_queue"] == 0)
    }

    @Test func largeDiskWithinTheHeadroomIsNotFlooded() async throws {
        try await Self.scenario(["scenario": "disk_ok_large"])
        let (result, _) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(!result.summary.contains("flood-stage"), "\(result.summary)")
        #expect(result.status != .critical, "\(result.summary)")
        #expect(result.metrics["flood_stage_free_bytes"] == Double(100 * 1_073_741_824))
    }

    @Test func persistentPercentWatermarkHasNoHeadroom() async throws {
        // A watermark set in the cluster settings turns the default 100 GB headroom off, though `defaults` still
        // shows it: on 4 TB with 150 GB free, a persistent 95% fires (5 % is 204.8 GB).
        try await Self.scenario([
            "scenario": "disk_ok_large", "watermarks": ["low": "85%", "high": "90%", "flood_stage": "95%"],
        ])
        let (result, _) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(result.status == .critical, "\(result.summary)")
        #expect(result.summary.contains("below the flood-stage watermark (95% used)"), "\(result.summary)")
    }

    @Test func ratioWatermark() async throws {
        // 0.3 of the disk used: flood stage below 70 GB free of 100 GB; 60 GB are free.
        try await Self.scenario([
            "scenario": "green", "watermarks": ["flood_stage": "0.3"], "watermark_source": "transient",
        ])
        let (result, _) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2)
        #expect(result.status == .critical, "\(result.summary)")
        #expect(result.summary.contains("flood-stage watermark (0.3 used)"), "\(result.summary)")
    }

    @Test func writeRejectionsSincePreviousSampleAndRestarts() async throws {
        try await Self.scenario(["scenario": "rejections", "amount": 5])
        let state = ProbeState()
        let first = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2, state: state)
        #expect(first.result.status == .ok, "the first sample is unjudged: \(first.result.summary)")
        let second = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2, state: state)
        #expect(second.result.status == .warning)
        #expect(
            second.result.summary.contains("5 writes rejected since the previous check"), "\(second.result.summary)")

        try await Self.double.control("/scenario", ["scenario": "restart", "uptime_ms": 5000])
        let restarted = await runCheck(Self.check(), .elasticsearchHealth, timeout: 2, state: state)
        #expect(restarted.result.status == .warning)
        #expect(restarted.result.summary.contains("restarted"), "\(restarted.result.summary)")
    }

    @Test func basicAuthAndA401() async throws {
        try await Self.scenario(["scenario": "auth", "user": "probe", "password": "es-pa55word"])
        let good = ElasticsearchStore(url: Self.double.url("es"), username: "probe", password: Secret("es-pa55word"))
        let ok = await runCheck(Self.check(good), .elasticsearchHealth, timeout: 2)
        #expect(ok.result.status == .ok, "\(ok.result.summary)")
        let requests = try await Self.double.requests()
        #expect(requests.allSatisfy { $0["auth_user"] as? String == "probe" })

        let bad = ElasticsearchStore(url: Self.double.url("es"), username: "probe", password: Secret("wrong-password"))
        let refused = await runCheck(
            Self.check(bad), .elasticsearchHealth, timeout: 2,
            config: ProbeConfig(instance: "test", secrets: [Secret("wrong-password")]))
        #expect(refused.result.status == .unknown, "the probe is blind, ES is not proven down")
        #expect(refused.result.summary.contains("401"), "\(refused.result.summary)")
        #expect(
            ![refused.result.summary, refused.result.error ?? "", refused.result.evidence ?? ""].joined().contains(
                "wrong-password"))
    }

    @Test func hangIsATimeoutWithinTheDeadline() async throws {
        try await Self.scenario(["scenario": "hang"])
        let (result, seconds) = await runCheck(Self.check(), .elasticsearchHealth, timeout: 0.6)
        #expect(result.status == .critical)
        #expect(result.summary.contains("no answer"), "\(result.summary)")
        #expect(seconds < 0.6 + 0.5)
        try await Self.double.control("/reset", [:])
    }

    @Test func refusedIsAReachabilityFailure() async throws {
        try await Self.scenario(["scenario": "green"])
        let store = ElasticsearchStore(url: URL(string: "http://127.0.0.1:\(Ports.closed())")!)
        let (result, seconds) = await runCheck(Self.check(store), .elasticsearchHealth, timeout: 0.6)
        #expect(result.status == .critical)
        #expect(result.reachabilityFailure)
        #expect(result.summary.contains("connection refused"), "\(result.summary)")
        #expect(seconds < 0.6 + 0.5)
    }

    @Test func healthWaitTimingOutWith408StillJudgesTheBody() async throws {
        try await Self.scenario(["scenario": "yellow"])
        let check = ElasticsearchHealthCheck(store: Self.store, settingsCache: 0, healthWait: 0.3)
        let (result, _) = await runCheck(check, .elasticsearchHealth, timeout: 3)
        #expect(result.status == .warning, "\(result.summary)")
        #expect(result.summary.contains("yellow"))
        let health = try await Self.double.requests().first { ($0["path"] as? String) == "/_cluster/health" }
        #expect(health?["status"] as? Int == 408)
    }

    @Test func clusterSettingsAreCached() async throws {
        try await Self.scenario(["scenario": "green"])
        await ElasticsearchSettingsCache.shared.clear()
        for _ in 0..<3 { _ = await runCheck(Self.check(cache: 300), .elasticsearchHealth, timeout: 2) }
        let settings = try await Self.double.requests().filter { ($0["path"] as? String) == "/_cluster/settings" }
        #expect(settings.count == 1)
        await ElasticsearchSettingsCache.shared.clear()
    }
}
