import Foundation

/// Whether a result's role in a merged report rests on evidence as new as the failure it judges.
///
/// The sidecar runs every check on its own schedule, so a report holds results of different ages. A failing result
/// whose dependencies look healthy is a root cause only if those dependencies were sampled after the failure began,
/// and the failure was sampled again after the dependencies last changed: otherwise a symptom sampled before its
/// root cause was noticed (or a root cause's symptom sampled before the root cause recovered) would look like a root
/// cause of its own. Symptoms need no such proof: a critical dependency explains them either way.
public enum EvidenceFreshness {
    /// The results the analysis relied on to give `result` its role.
    public static func evidence(for result: CheckResult, in report: Report) -> [CheckResult] {
        switch result.role {
        case .rootCause, .unconfirmedRootCause:
            report.results.filter { other in
                other.key != result.key && result.dependsOn.contains { RootCauseAnalysis.matches(other, $0) }
            }
        case .unreachableFromProbe:
            report.results.filter { $0.status == .ok && $0.provides.contains(result.service) }
        case .healthy, .symptom:
            []
        }
    }

    /// The evidence that is too old: sampled before the failure began (`failingSince`), or changed after the failure
    /// was last sampled (`changedAt` gives when a key last changed between OK and not OK).
    public static func stale(
        _ result: CheckResult, in report: Report, failingSince: Date,
        changedAt: (String) -> Date?
    ) -> [CheckResult] {
        guard result.status != .ok else { return [] }
        return evidence(for: result, in: report).filter { other in
            other.startedAt < failingSince || (changedAt(other.key).map { result.startedAt < $0 } ?? false)
        }
    }

    /// The configured checks without a result yet that this result's role would rest on: right after start, a
    /// dependency that has not reported is "not checked" only for now, and a failure over it is no root cause
    /// before it has been heard from (a fileserver failing over a Redis whose checks have not run is Redis's symptom
    /// a second later).
    public static func awaited(for result: CheckResult, in report: Report) -> [CheckID] {
        guard result.status != .ok, result.role == .rootCause || result.role == .unconfirmedRootCause else { return [] }
        return report.pending.filter { id in
            id != result.id
                && result.dependsOn.contains { dependency in
                    switch dependency {
                    case .service(let service): id.service == service
                    case .check(let check): id == check
                    case .result(let key): IncidentTracker.checkID(ofKey: key) == id.rawValue
                    }
                }
        }
    }
}
