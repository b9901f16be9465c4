import Foundation
import ProbeCore
import Runtime

/// A snapshot with something of everything: a root cause with its symptoms, Redis latency quantiles, Elasticsearch
/// heap and disk, HTTP phase timings, and text that must be escaped (markup, quotes, a backslash).
enum Fixtures {
    static let hostile = "<script>alert('x')</script> & \"quoted\""

    static func report() -> Report {
        let now = Date()
        var routes = CheckResult(
            id: .ingressRoutes, target: "api", status: .critical, summary: "api route: 502 from nginx",
            timings: ["dns_ms": 0.2, "connect_ms": 0.5, "first_byte_ms": 12, "total_ms": 13], startedAt: now,
            durationMs: 13)
        routes.hint = "see the apiserver"
        let ping = CheckResult(
            id: .apiserverPing, status: .critical, summary: "debug.ping refused " + hostile,
            hint: "Start the apiserver " + hostile, error: "connection refused", evidence: "<b>bad</b>",
            startedAt: now, durationMs: 1.5, reachabilityFailure: false)
        let web = CheckResult(
            id: .webserverUI, target: "index", status: .ok, summary: "UI page: 200 in 3 ms", startedAt: now,
            durationMs: 3)
        let redis = CheckResult(
            id: .redisLatency, status: .ok, summary: "p99 0.4 ms",
            metrics: ["p50_ms": 0.2, "p99_ms": 0.4, "max_ms": 1.1, "samples": 100], startedAt: now, durationMs: 30)
        let elastic = CheckResult(
            id: .elasticsearchHealth, status: .warning, summary: "heap 81 %",
            metrics: [
                "heap_used_percent": 81, "disk_available_bytes": 5e9, "unassigned_shards": 0,
                "write_rejections_total": 3,
            ],
            startedAt: now, durationMs: 8)
        let queue = CheckResult(
            id: .queuesBacklog, target: "odd \"name\\x\"", status: .ok, summary: "no backlog",
            metrics: ["waiting_tasks": 0], startedAt: now, durationMs: 4)
        return Report(
            startedAt: now, durationMs: 30, results: [routes, ping, web, redis, elastic, queue],
            notChecked: [NotChecked(id: .mongoPing, reason: "no address " + hostile)])
    }

    static func snapshot(alerts: AlertSummary? = nil) -> StatusSnapshot {
        let report = report()
        var history = LatencyHistory()
        for result in report.results {
            for index in 0..<20 { history.record(result.key, milliseconds: result.durationMs + Double(index % 5)) }
        }
        return StatusSnapshot(
            report: report, history: history,
            cadence: [
                .apiserverPing: .init(intervalSeconds: 30, periodSeconds: 120, consecutiveFailures: 3),
                .webserverUI: .init(intervalSeconds: 30, periodSeconds: 30),
            ],
            cycles: 42, lastCycleAt: Date(), runs: 99, overruns: [.apiserverPing: 1], alerts: alerts,
            instance: "probe-test")
    }
}

/// A health source for tests.
struct FixedHealth: HealthSource {
    var verdict: HealthVerdict
    init(alive: Bool = true) {
        verdict = HealthVerdict(alive: alive, reason: alive ? "scheduler running" : "scheduler wedged: test")
    }
}
