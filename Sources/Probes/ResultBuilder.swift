import Foundation
import NativeClients
import ProbeCore

/// Builds results with the engine-independent fields a check fills.
public struct ResultBuilder: Sendable {
    public var id: CheckID
    public var started: Date
    private let clock = ContinuousClock.now

    public init(id: CheckID) {
        self.id = id
        self.started = Date()
    }

    public var elapsedMs: Double {
        clock.duration(to: .now).milliseconds
    }

    public func result(
        target: String = "", service: Service? = nil, status: Status, summary: String, hint: String? = nil,
        metrics: [String: Double] = [:], timings: HTTPTimings? = nil, error: String? = nil,
        evidence: String? = nil, dependsOn: [Dependency]? = nil, reachabilityFailure: Bool = false,
        provides: [Service] = []
    ) -> CheckResult {
        CheckResult(
            id: id, service: service, target: target, status: status, summary: summary, hint: hint,
            metrics: metrics, timings: timings?.asDictionary ?? [:], error: error, evidence: evidence,
            startedAt: started, durationMs: timings?.total ?? elapsedMs, dependsOn: dependsOn,
            reachabilityFailure: reachabilityFailure, provides: provides)
    }
}
