import Foundation
import Testing

@testable import ProbeCore

/// A probe that reaches none of the stack's services directly is one finding, not one root cause per store.
@Suite("A probe off the stack's network")
struct OffNetworkAnalysisTests {
    static func result(
        _ id: CheckID, _ status: Status, target: String = "", service: Service? = nil,
        dependsOn: [Dependency]? = nil, reachability: Bool = false
    ) -> CheckResult {
        CheckResult(
            id: id, service: service, target: target, status: status, summary: "\(id.rawValue) \(status.rawValue)",
            dependsOn: dependsOn, reachabilityFailure: reachability)
    }

    /// The results of a `run` from a host that resolves none of the compose service names.
    static let offNetwork: [CheckResult] = [
        result(.apiserverPing, .critical, reachability: true),
        result(.apiserverAuth, .critical, target: "direct", reachability: true),
        result(.mongoPing, .critical, reachability: true),
        result(.mongoStatus, .critical, dependsOn: [.check(.mongoPing)], reachability: true),
        result(.redisLatency, .critical, reachability: true),
        result(.elasticsearchHealth, .critical, reachability: true),
        result(.fileserverRoundtrip, .unknown, target: "direct", dependsOn: [.service(.apiserver)]),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var results: [CheckResult]
        var collapsed: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing resolves: one finding", results: offNetwork, collapsed: true),
        Case(
            name: "the fileserver volume (local) is OK: still one finding",
            results: offNetwork + [result(.fileserverVolume, .ok)], collapsed: true),
        Case(
            name: "a public ingress answers: the direct failures still collapse",
            results: offNetwork + [result(.ingressRoutes, .ok, target: "api", dependsOn: [.service(.apiserver)])],
            collapsed: true),
        Case(
            name: "Redis answers: the probe is on the network, the others are real causes",
            results: offNetwork.filter { $0.id != .redisLatency } + [result(.redisLatency, .ok)], collapsed: false),
        Case(
            name: "one store alone is unreachable: its own root cause",
            results: [result(.apiserverPing, .ok), result(.mongoPing, .critical, reachability: true)], collapsed: false),
        Case(
            name: "a store answered with an error: not a reachability picture",
            results: offNetwork.filter { $0.id != .elasticsearchHealth } + [result(.elasticsearchHealth, .critical)],
            collapsed: false),
        Case(
            name: "a single service on several checks: not the whole stack",
            results: [
                result(.mongoPing, .critical, reachability: true),
                result(.mongoWrite, .critical, dependsOn: [], reachability: true),
            ],
            collapsed: false),
    ]

    @Test(arguments: cases)
    func table(_ testCase: Case) {
        let report = Report(startedAt: Date(), durationMs: 1, results: testCase.results, notChecked: [])
        if testCase.collapsed {
            #expect(report.rootCauses.count == 1, "\(report.rootCauses)")
            let cause = try! #require(report.rootCauses.first.flatMap { report.result($0) })
            #expect(cause.summary.contains("the probe reaches none of the stack's services"), "\(cause.summary)")
            #expect(cause.summary.contains("MongoDB") || cause.summary.contains("Mongo"), "\(cause.summary)")
            #expect(cause.hint?.contains("network") == true)
            for other in report.results
            where other.key != cause.key && other.status != .ok && other.id != .ingressRoutes {
                #expect(other.role == .symptom, "\(other.key): \(other.role)")
                #expect(other.rootCause == cause.key, "\(other.key): \(other.rootCause ?? "nil")")
            }
        } else {
            #expect(!report.results.contains { $0.summary.contains("reaches none of the stack's services") })
        }
    }

    @Test func theOffNetworkRunHadOneRootCausePerStoreBefore() {
        // Without the pass the same results give a root cause per store: what a person had to untangle.
        let analysed = RootCauseAnalysis.rootCauseKeys(Array(RootCauseAnalysis.analyse(Self.offNetwork)))
        #expect(analysed.count == 1)
        let perStore = Self.offNetwork.filter {
            $0.reachabilityFailure
                && $0.dependsOn.allSatisfy { dep in
                    if case .check = dep { return false } else { return true }
                }
        }
        #expect(Set(perStore.map(\.service)).count >= 4)
    }
}
