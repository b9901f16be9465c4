import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// `apiserver.auth` against the ClearML double: every apiserver scenario gives the right status, words and root cause
/// within its deadline, on the direct path and through the ingress stand-in.
@Suite(.serialized)
final class ApiserverAuthCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    func config(timeout: String = "2s", ingress: Bool = true, direct: Bool = true) throws -> LoadedConfig {
        try clearml.loaded(
            checks: "  apiserver.auth: {}\n  apiserver.ping: {}", timeout: timeout, ingress: ingress, direct: direct)
    }

    func run(timeout: String = "2s", state: ProbeState = ProbeState(), extra: [CheckResult] = []) async throws -> Report
    {
        let report = await clearml.run(
            try config(timeout: timeout), only: [.apiserverAuth, .apiserverPing], state: state)
        guard !extra.isEmpty else { return report }
        return Report(
            startedAt: report.startedAt, durationMs: report.durationMs, results: report.results + extra,
            notChecked: report.notChecked)
    }

    @Test func okOnBothPathsWithVersionsAndEvidenceOfTheStores() async throws {
        let report = try await run()
        let direct = try #require(report.result("apiserver.auth/direct"))
        let ingress = try #require(report.result("apiserver.auth/ingress"))
        #expect(direct.status == .ok, "\(direct.summary)")
        #expect(ingress.status == .ok, "\(ingress.summary)")
        #expect(direct.summary.contains("auth.login"))
        #expect(direct.summary.contains("ClearML server 2.3.0 (API 2.34)"))
        #expect(ingress.summary.contains("through the ingress"))
        #expect(direct.provides.contains(.mongo) && direct.provides.contains(.redis))
        #expect(direct.metrics["queues_get_all_ms"] != nil && direct.metrics["server_info_ms"] != nil)
        #expect(ingress.service == .nginx)
        #expect(report.status == .ok)
        #expect(try await clearml.count("api", "auth.login") == 1)
    }

    @Test func reusesTheTokenAndNeverLogsOut() async throws {
        let state = ProbeState()
        for _ in 0..<3 { _ = try await run(state: state) }
        let counters = try await clearml.counters()
        #expect(counters["api"]?["auth.login"] == 1)
        #expect(counters["api"]?["auth.logout"] == nil)
        #expect(counters["api"]?["queues.get_all"] == 6)
        let requests = try await clearml.double.requests()
        let login = try #require(requests.first { ($0["path"] as? String)?.contains("auth.login") == true })
        #expect((login["body"] as? String)?.contains("\"expiration_sec\":3600") == true)
        let report = try await run(state: state)
        #expect(report.result("apiserver.auth/direct")?.summary.contains("token reused") == true)
    }

    @Test func rejectedKeyIsBlindNotDown() async throws {
        try await clearml.scenario(api: "bad_credentials")
        let report = try await run()
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .unknown)
        #expect(direct.summary.contains("the probe is blind: its key is rejected"))
        #expect(direct.summary.contains("401/22"))
        #expect(report.result("apiserver.auth/ingress")?.status == .unknown)
        #expect(report.status == .unknown)
        #expect(report.results.allSatisfy { $0.status != .critical })
    }

    @Test func mongoErrorEnvelopeIsBlamedOnFailingMongo() async throws {
        try await clearml.scenario(api: "mongo_down:300")
        let mongo = CheckResult(id: .mongoPing, status: .critical, summary: "connection refused at mongo:27017")
        let (report, seconds) = try await timed { try await run(extra: [mongo]) }
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("MongoDB") && direct.summary.contains("500/1"))
        #expect(direct.rootCause == "mongo.ping")
        #expect(report.result("apiserver.auth/ingress")?.rootCause == "mongo.ping")
        #expect(report.rootCauses == ["mongo.ping"])
        #expect(seconds < 2 + 0.5 + 0.5)
    }

    @Test func loginTimeoutWhilePingAnswersPointsAtMongo() async throws {
        try await clearml.scenario(api: "mongo_down")
        let mongo = CheckResult(id: .mongoPing, status: .critical, summary: "no answer from mongo:27017")
        let (report, seconds) = try await timed { try await run(timeout: "1s", extra: [mongo]) }
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("debug.ping answers"), "\(direct.summary)")
        #expect(direct.summary.contains("waiting for MongoDB"))
        #expect(direct.dependsOn.contains(.service(.mongo)))
        #expect(direct.rootCause == "mongo.ping")
        #expect(report.result("apiserver.ping")?.status == .ok)
        #expect(seconds < 1 + 0.5 + 0.5)

        // Without a Mongo check the cause is unconfirmed, never "ClearML down" without saying why.
        let alone = try await run(timeout: "1s")
        #expect(alone.result("apiserver.auth/direct")?.role == .unconfirmedRootCause)
    }

    @Test func plainFiveHundredOnBearerWhileBasicWorksIsRedis() async throws {
        try await clearml.scenario(api: "redis_down")
        let report = try await run()
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("while auth.login with Basic credentials works"), "\(direct.summary)")
        #expect(direct.summary.contains("Redis"))
        #expect(direct.dependsOn.contains(.service(.redis)))
        let redis = CheckResult(id: .redisLatency, status: .critical, summary: "connection refused at redis:6379")
        let withRedis = Report(
            startedAt: report.startedAt, durationMs: 0, results: report.results + [redis], notChecked: [])
        #expect(withRedis.result("apiserver.auth/direct")?.rootCause == "redis.latency")
        #expect(withRedis.result("apiserver.auth/ingress")?.rootCause == "redis.latency")
    }

    @Test func revokedTokenIsNamedAndNotRenewedEveryCycle() async throws {
        let state = ProbeState()
        _ = try await run(state: state)
        try await clearml.scenario(api: "revoked")
        for _ in 0..<3 {
            let report = try await run(state: state)
            let direct = try #require(report.result("apiserver.auth/direct"))
            #expect(direct.status == .critical)
            #expect(direct.summary.contains("401/30") && direct.summary.contains("revoked"))
        }
        // One login at first, one renewal after the refusal, then none until the reuse window ends.
        #expect(try await clearml.count("api", "auth.login") == 2)
        #expect(try await clearml.count("api", "auth.logout") == 0)
    }

    @Test func forbiddenRoleIsBlind() async throws {
        try await clearml.scenario(api: "role_forbidden")
        let report = try await run()
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .unknown)
        #expect(direct.summary.contains("403/20") && direct.summary.contains("blind"))
    }

    @Test func apiserverDownIsRefusedAndTheIngressIsItsSymptom() async throws {
        try await clearml.scenario(api: "down")
        let report = try await run()
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("connection refused"))
        #expect(direct.reachabilityFailure)
        #expect(direct.rootCause == "apiserver.ping")
        #expect(report.result("apiserver.auth/ingress")?.role == .symptom)
        #expect(report.rootCauses == ["apiserver.ping"])
    }

    @Test func hangingApiserverIsStuckNotMongo() async throws {
        try await clearml.scenario(api: "hang")
        let (report, seconds) = try await timed { try await run(timeout: "1s") }
        let direct = try #require(report.result("apiserver.auth/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("debug.ping does not answer either"), "\(direct.summary)")
        #expect(direct.rootCause == "apiserver.ping")
        #expect(seconds < 1 + 0.5 + 0.5)
    }

    @Test func garbageAndCrashPagesAreNamed() async throws {
        try await clearml.scenario(api: "garbage")
        let garbage = try #require(try await run().result("apiserver.auth/direct"))
        #expect(garbage.status == .critical)
        #expect(garbage.summary.contains("not with a ClearML envelope"))
        try await clearml.reset()
        try await clearml.scenario(api: "5xx")
        let crash = try #require(try await run().result("apiserver.auth/direct"))
        #expect(crash.status == .critical)
        #expect(crash.summary.contains("plain HTTP 500"))
    }

    @Test func ingressFaultIsToldApartFromTheApplication() async throws {
        try await clearml.scenario(web: "api_proxy_down")
        let report = try await run()
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        let ingress = try #require(report.result("apiserver.auth/ingress"))
        #expect(ingress.status == .critical)
        #expect(ingress.summary.contains("502") && ingress.summary.contains("nginx could not get an answer"))
        #expect(ingress.role == .rootCause)
        #expect(ingress.service == .nginx)
    }

    @Test func ingressOnlyConfigLogsInThroughTheIngress() async throws {
        let report = await clearml.run(try config(direct: false), only: [.apiserverAuth])
        let ingress = try #require(report.result("apiserver.auth/ingress"))
        #expect(ingress.status == .ok, "\(ingress.summary)")
        #expect(ingress.summary.contains("auth.login"))
        #expect(report.results.count == 1)
    }
}
