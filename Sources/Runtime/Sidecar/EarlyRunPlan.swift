import Foundation
import ProbeCore

/// Which checks to run again now, after one check's new results were merged into the sidecar's report (pure).
///
/// - A result that turned bad: every check it may be a symptom of, down the whole chain (its dependencies, theirs,
///   and the checks whose OK result proves its service works), so its root cause is judged on samples taken after
///   the failure began.
/// - A result that turned OK: every failing result that was its symptom, or that depends on it, so a symptom
///   sampled before the recovery is not mistaken for a root cause of its own; and the failing checks it was a
///   symptom of or depends on, whose recovery it suggests (the RESOLVED does not wait for their backoff).
public enum EarlyRunPlan {
    public static func checks(
        after id: CheckID, previous: [String: Status], report: Report,
        previousReport: Report?
    ) -> Set<CheckID> {
        var wanted: Set<CheckID> = []
        for result in report.results where result.id == id {
            let before = previous[result.key]
            if result.status != .ok, before == nil || before == .ok {
                wanted.formUnion(causeCandidates(of: result, in: report))
            } else if result.status == .ok, let before, before != .ok, let previousReport {
                let cause = previousReport.result(result.key)?.rootCause
                for other in previousReport.results where other.status != .ok && other.id != id {
                    let symptom = other.rootCause.flatMap(previousReport.result)?.id == id
                    let dependent = other.dependsOn.contains { RootCauseAnalysis.matches(result, $0) }
                    // Its root cause (or a failing dependency) may have recovered too: a check in backoff would
                    // otherwise say so only at its next slot, and the RESOLVED would wait for it.
                    let formerCause =
                        other.key == cause || result.dependsOn.contains { RootCauseAnalysis.matches(other, $0) }
                    if symptom || dependent || formerCause { wanted.insert(other.id) }
                }
            }
        }
        wanted.remove(id)
        return wanted
    }

    /// The checks of everything `result` depends on, transitively, and of the results proving its service works.
    static func causeCandidates(of result: CheckResult, in report: Report) -> Set<CheckID> {
        var found: Set<String> = [result.key]
        var frontier = [result]
        var ids: Set<CheckID> = []
        for other in report.results where other.provides.contains(result.service) { ids.insert(other.id) }
        while let current = frontier.popLast() {
            for other in report.results
            where !found.contains(other.key)
                && current.dependsOn.contains(where: { RootCauseAnalysis.matches(other, $0) })
            {
                found.insert(other.key)
                ids.insert(other.id)
                frontier.append(other)
            }
        }
        return ids
    }
}
