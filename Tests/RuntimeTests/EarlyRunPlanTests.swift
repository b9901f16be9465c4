import Foundation
import ProbeCore
import Runtime
import Testing

@Suite struct EarlyRunPlanTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func report(_ results: [CheckResult]) -> Report {
        Report(startedAt: t0, durationMs: 1, results: results, notChecked: [])
    }

    @Test func aCheckThatTurnsBadAsksForEveryCheckItMayBeASymptomOf() {
        let report = Self.report([
            CheckResult(id: .agentsWorkers, status: .critical, summary: "no worker"),
            CheckResult(id: .apiserverPing, status: .ok, summary: "ok"),
            CheckResult(id: .apiserverAuth, status: .ok, summary: "ok", provides: [.mongo, .redis]),
            CheckResult(id: .redisLatency, status: .ok, summary: "ok"),
            CheckResult(id: .mongoPing, status: .ok, summary: "ok"),
            CheckResult(id: .ingressRoutes, service: .nginx, target: "api", status: .ok, summary: "ok"),
        ])
        let wanted = EarlyRunPlan.checks(
            after: .agentsWorkers, previous: ["agents.workers": .ok], report: report, previousReport: nil)
        #expect(
            wanted == [.apiserverPing, .apiserverAuth, .redisLatency, .mongoPing],
            "the apiserver and, below it, the stores; never the check itself or what depends on it")
    }

    @Test func aFailureThatGoesOnAsksForNothing() {
        let report = Self.report([
            CheckResult(id: .agentsWorkers, status: .critical, summary: "no worker"),
            CheckResult(id: .apiserverPing, status: .ok, summary: "ok"),
        ])
        #expect(
            EarlyRunPlan.checks(
                after: .agentsWorkers, previous: ["agents.workers": .critical], report: report, previousReport: nil
            ).isEmpty)
    }

    @Test func aRecoveredRootCauseAsksForItsSymptoms() {
        let before = Self.report([
            CheckResult(id: .redisLatency, status: .critical, summary: "refused"),
            CheckResult(id: .apiserverAuth, status: .critical, summary: "500"),
            CheckResult(id: .agentsWorkers, status: .critical, summary: "500"),
            CheckResult(id: .mongoPing, status: .ok, summary: "ok"),
        ])
        #expect(before.result("apiserver.auth")?.rootCause == "redis.latency")
        let after = Self.report([
            CheckResult(id: .redisLatency, status: .ok, summary: "ok"),
            CheckResult(id: .apiserverAuth, status: .critical, summary: "500"),
            CheckResult(id: .agentsWorkers, status: .critical, summary: "500"),
            CheckResult(id: .mongoPing, status: .ok, summary: "ok"),
        ])
        let wanted = EarlyRunPlan.checks(
            after: .redisLatency, previous: ["redis.latency": .critical], report: after, previousReport: before)
        #expect(wanted == [.apiserverAuth, .agentsWorkers])
    }

    @Test func aRecoveredSymptomAsksForItsRootCauseInBackoff() {
        let before = Self.report([
            CheckResult(id: .redisLatency, status: .critical, summary: "refused"),
            CheckResult(id: .apiserverAuth, status: .critical, summary: "500"),
            CheckResult(id: .agentsWorkers, status: .critical, summary: "500"),
            CheckResult(id: .mongoPing, status: .ok, summary: "ok"),
        ])
        // Redis came back; its check is in backoff and still shows the refusal, the apiserver already works.
        let after = Self.report([
            CheckResult(id: .redisLatency, status: .critical, summary: "refused"),
            CheckResult(id: .apiserverAuth, status: .ok, summary: "ok"),
            CheckResult(id: .agentsWorkers, status: .critical, summary: "500"),
            CheckResult(id: .mongoPing, status: .ok, summary: "ok"),
        ])
        let wanted = EarlyRunPlan.checks(
            after: .apiserverAuth, previous: ["apiserver.auth": .critical], report: after, previousReport: before)
        #expect(wanted.contains(.redisLatency), "the root cause it was a symptom of is sampled again now")
        #expect(wanted.contains(.agentsWorkers), "and what depends on it, as before")
        #expect(!wanted.contains(.mongoPing), "a passing dependency needs no new sample")
    }
}
