import Foundation
import Testing

@testable import ProbeCore

@Suite("Root causes over the topology")
struct RootCauseAnalysisTests {
    func result(
        _ id: CheckID, _ status: Status, target: String = "", service: Service? = nil, dependsOn: [Dependency]? = nil,
        reachability: Bool = false, provides: [Service] = []
    ) -> CheckResult {
        CheckResult(
            id: id, service: service, target: target, status: status, summary: "\(id.rawValue) \(status.rawValue)",
            dependsOn: dependsOn, reachabilityFailure: reachability, provides: provides)
    }

    @Test("all healthy: OK, no root causes")
    func healthy() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.apiserverPing, .ok), result(.mongoPing, .ok),
                result(.ingressRoutes, .ok, target: "api", dependsOn: [.service(.apiserver)]),
            ], notChecked: [])
        #expect(report.status == .ok)
        #expect(report.rootCauses.isEmpty)
        #expect(report.results.allSatisfy { $0.role == .healthy && $0.rootCause == nil })
    }

    @Test("a failing store is the root cause; the apiserver and the route above it are its symptoms")
    func chain() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.ingressRoutes, .critical, target: "api", dependsOn: [.service(.apiserver)]),
                result(.apiserverAuth, .critical),
                result(.apiserverPing, .ok),
                result(.mongoPing, .critical, reachability: true),
                result(.redisLatency, .ok),
                result(.elasticsearchHealth, .ok),
            ], notChecked: [])
        #expect(report.rootCauses == ["mongo.ping"])
        #expect(report.result("apiserver.auth")?.rootCause == "mongo.ping")
        // The route depends on the apiserver; the apiserver's critical result is itself a symptom of Mongo.
        #expect(report.result("ingress.routes/api")?.rootCause == "mongo.ping")
        #expect(report.status == .critical)
    }

    @Test("a failure over an unchecked dependency is an unconfirmed root cause")
    func unconfirmed() {
        let report = Report(
            startedAt: Date(), durationMs: 1, results: [result(.apiserverAuth, .critical)], notChecked: [])
        #expect(report.result("apiserver.auth")?.role == .unconfirmedRootCause)
        #expect(report.rootCauses == ["apiserver.auth"])
        #expect(report.status == .critical)
    }

    @Test("a warning never explains a failure above it, and the overall status stays critical")
    func warningsDoNotExplain() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.redisLatency, .warning), result(.mongoPing, .ok), result(.elasticsearchHealth, .ok),
                result(.apiserverAuth, .critical),
            ], notChecked: [])
        #expect(report.result("apiserver.auth")?.role == .rootCause)
        #expect(report.result("redis.latency")?.role == .rootCause)
        #expect(report.status == .critical)
        #expect(report.rootCauses.first == "apiserver.auth")
    }

    @Test("a symptom never lowers the verdict: overall is the worst non-symptom")
    func overallIgnoresSymptomsOnly() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.apiserverPing, .critical, dependsOn: []),
                result(.webserverUI, .unknown, target: "api", dependsOn: [.service(.apiserver)]),
            ], notChecked: [])
        #expect(report.result("webserver.ui/api")?.role == .symptom)
        #expect(report.status == .critical)
    }

    @Test("a store unreachable from the probe while the apiserver proves it works is not a cause")
    func unreachableFromProbe() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.mongoPing, .critical, reachability: true),
                result(.apiserverAuth, .ok, provides: [.mongo, .redis]),
                result(.fileserverRoundtrip, .critical, dependsOn: [.check(.apiserverAuth), .service(.mongo)]),
            ], notChecked: [])
        let mongo = report.result("mongo.ping")
        #expect(mongo?.role == .unreachableFromProbe)
        #expect(mongo?.status == .unknown)
        #expect(mongo?.summary.contains("unreachable from the probe") == true)
        #expect(report.result("fileserver.roundtrip")?.role == .rootCause)
        #expect(!report.rootCauses.contains("mongo.ping"))
    }

    @Test(
        "a store that does not answer is one root cause: its write and status checks are symptoms of its liveness check"
    )
    func storeLiveness() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.redisLatency, .critical), result(.redisWrite, .critical, dependsOn: [.check(.redisLatency)]),
                result(.redisStatus, .critical, dependsOn: [.check(.redisLatency)]),
                result(.mongoPing, .ok), result(.mongoWrite, .critical, dependsOn: [.check(.mongoPing)]),
            ], notChecked: [])
        #expect(report.rootCauses == ["redis.latency", "mongo.write"])
        #expect(report.result("redis.write")?.rootCause == "redis.latency")
        #expect(report.result("redis.status")?.rootCause == "redis.latency")
        #expect(
            report.result("mongo.write")?.role == .rootCause, "ping answers, so the failed durable write is the cause")
    }

    @Test("a later step depends on the first step of the same check")
    func resultDependency() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.webserverUI, .critical, target: "index", dependsOn: []),
                result(
                    .webserverUI, .critical, target: "api",
                    dependsOn: [.result("webserver.ui/index"), .service(.apiserver)]),
                result(.apiserverPing, .ok),
            ], notChecked: [])
        #expect(report.rootCauses == ["webserver.ui/index"])
        #expect(report.result("webserver.ui/api")?.rootCause == "webserver.ui/index")
    }

    @Test("symptom chains resolve to the deepest root whatever the input order")
    func chaseOrder() {
        let report = Report(
            startedAt: Date(), durationMs: 1,
            results: [
                result(.ingressRoutes, .critical, target: "web", dependsOn: [.service(.webserver)]),
                result(.webserverUI, .critical, target: "api", dependsOn: [.result("webserver.ui/index")]),
                result(.webserverUI, .critical, target: "index", dependsOn: []),
            ], notChecked: [])
        #expect(report.result("ingress.routes/web")?.rootCause == "webserver.ui/index")
    }

    @Test("status order: critical > unknown > warning > ok; exit codes follow the plugin convention")
    func statusOrder() {
        #expect(Status.worst([.ok, .warning, .unknown]) == .unknown)
        #expect(Status.worst([.unknown, .critical]) == .critical)
        #expect(Status.worst([]) == .ok)
        #expect([Status.ok, .warning, .critical, .unknown].map(\.exitCode) == [0, 1, 2, 3])
    }
}
