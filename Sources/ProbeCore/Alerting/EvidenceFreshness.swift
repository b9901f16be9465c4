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
    public static func stale(_ result: CheckResult, in report: Report, failingSince: Date,
                             changedAt: (String) -> Date?) -> [CheckResult] {
        guard result.status != .ok else { return [] }
        return evidence(for: result, in: report).filter { other in
            other.startedAt < failingSince || (changedAt(other.key).map { result.startedAt < $0 } ?? false)
        }
    }
}
