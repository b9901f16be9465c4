import Foundation

/// One pass over the configured checks, analysed: root causes first, symptoms attached.
public struct Report: Sendable, Equatable {
    public var startedAt: Date
    public var durationMs: Double
    /// Results in report order (root causes first is the renderer's job; this is catalog order).
    public var results: [CheckResult]
    public var notChecked: [NotChecked]
    /// Keys of root causes and unconfirmed root causes, most severe first.
    public var rootCauses: [String]
    /// Worst status among results that are not symptoms.
    public var status: Status
    /// True when the report merges the latest result of each check, taken at different times (the sidecar): a
    /// result then repeats across reports until its check runs again, and alerting observes each sample once (by its
    /// `startedAt`) and only once the evidence for its role is as new as the failure it judges. False for one pass
    /// (`run`), where every result is new.
    public var merged: Bool = false
    /// Configured checks that have no result in this report yet (a merged report just after start): what the
    /// analysis sees as "not checked" may only be not checked *yet*.
    public var pending: [CheckID] = []

    public init(startedAt: Date, durationMs: Double, results: [CheckResult], notChecked: [NotChecked]) {
        let analysed = RootCauseAnalysis.analyse(results)
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.results = analysed
        self.notChecked = notChecked
        self.rootCauses = RootCauseAnalysis.rootCauseKeys(analysed)
        self.status = RootCauseAnalysis.overallStatus(analysed)
    }

    public func result(_ key: String) -> CheckResult? { results.first { $0.key == key } }

    /// The results attached to a root cause.
    public func symptoms(of key: String) -> [CheckResult] { results.filter { $0.rootCause == key } }

    /// Services with no result at all: the analysis treated them as unknown.
    public var uncheckedServices: [Service] {
        let seen = Set(results.map(\.service))
        return Service.allCases.filter { !seen.contains($0) }
    }
}
