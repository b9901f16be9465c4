import Foundation
import Logging
import ProbeCore

/// Turns each run's outcome into the sidecar's picture: the latest result of every check merged into one report
/// (re-analysed for root causes over the whole set), handed to the sinks in order, published for the HTTP
/// endpoint, and counted into cycles.
public actor ReportAssembler: RunObserver {
    private let order: Set<CheckID>
    private let catalogOrder: [CheckID]
    private let notChecked: [NotChecked]
    private let board: StatusBoard
    private let inFlight: InFlight?
    private let alerts: (any AlertStatusProvider)?
    private let cycles: CycleEvents
    private let reports: ReportQueue?
    private let logger: Logger
    private let earlyRuns: EarlyRuns?
    private var latest: [CheckID: [CheckResult]] = [:]
    private var tracker: CycleTracker
    private var snapshot: StatusSnapshot

    public init(
        entries: [(id: CheckID, interval: Double)], notChecked: [NotChecked], board: StatusBoard,
        inFlight: InFlight? = nil, alerts: (any AlertStatusProvider)? = nil, cycles: CycleEvents = CycleEvents(),
        reports: ReportQueue? = nil, instance: String = "clearml-probe",
        logger: Logger = Logger(label: "clearml-probe.report"), earlyRuns: EarlyRuns? = nil
    ) {
        catalogOrder = entries.map(\.id).sorted()
        order = Set(catalogOrder)
        self.notChecked = notChecked
        self.board = board
        self.inFlight = inFlight
        self.alerts = alerts
        self.cycles = cycles
        self.reports = reports
        self.logger = logger
        self.earlyRuns = earlyRuns
        tracker = CycleTracker(checks: entries.map(\.id))
        snapshot = StatusSnapshot(
            cadence: Dictionary(
                entries.map { ($0.id, .init(intervalSeconds: $0.interval, periodSeconds: $0.interval)) },
                uniquingKeysWith: { first, _ in first }),
            instance: instance)
        board.publish(snapshot)
    }

    public func completed(_ outcome: RunOutcome) async {
        let now = Date()
        let previous = Dictionary(
            (snapshot.report?.results ?? []).filter { $0.id == outcome.id }.map { ($0.key, $0.status) },
            uniquingKeysWith: { first, _ in first })
        let previousReport = snapshot.report
        if let results = outcome.results {
            logChanges(from: latest[outcome.id] ?? [], to: results)
            latest[outcome.id] = results
            for result in results { snapshot.history.record(result.key, milliseconds: result.durationMs) }
        } else {
            logger.warning(
                "check skipped: its previous run is still inside a C call past its deadline",
                metadata: ["probe.check": "\(outcome.id.rawValue)"])
        }
        snapshot.runs += 1
        snapshot.cadence[
            outcome.id, default: .init(intervalSeconds: outcome.periodSeconds, periodSeconds: outcome.periodSeconds)
        ]
        .periodSeconds = outcome.periodSeconds
        snapshot.cadence[outcome.id]?.consecutiveFailures = outcome.consecutiveFailures
        snapshot.cadence[outcome.id]?.lastRunAt = now

        let report = merged()
        if let earlyRuns, let results = outcome.results, let start = results.map(\.startedAt).min() {
            let wanted = EarlyRunPlan.checks(
                after: outcome.id, previous: previous, report: report, previousReport: previousReport
            )
            .intersection(order)
            if !wanted.isEmpty {
                logger.debug(
                    "early runs for fresh evidence",
                    metadata: [
                        "probe.check": "\(outcome.id.rawValue)",
                        "probe.early": "\(wanted.map(\.rawValue).sorted().joined(separator: ","))",
                    ])
                earlyRuns.request(wanted, after: start)
            }
        }
        snapshot.report = report
        snapshot.history.retain(keys: Set(report.results.map(\.key)))
        if let inFlight { snapshot.overruns = await inFlight.overruns }
        if let alerts { snapshot.alerts = AlertSummary(await alerts.alertStatus()) }
        let cycleDone = tracker.record(outcome.id, backingOff: outcome.backingOff)
        if cycleDone {
            snapshot.cycles = tracker.completed
            snapshot.lastCycleAt = now
        }
        board.publish(snapshot)
        reports?.enqueue(report, at: now)
        if cycleDone {
            cycles.publish(CycleInfo(number: tracker.completed, at: now, status: report.status.rawValue))
        }
    }

    public func finished() async {
        reports?.finish()
        cycles.finish()
    }

    /// The latest results of every check, in catalog order, analysed as one report.
    func merged() -> Report {
        let results = catalogOrder.flatMap { latest[$0] ?? [] }
        let start = results.map(\.startedAt).min() ?? Date()
        let end = results.map { $0.startedAt.addingTimeInterval($0.durationMs / 1000) }.max() ?? start
        var report = Report(
            startedAt: start, durationMs: max(0, end.timeIntervalSince(start) * 1000),
            results: Engine.uniqueKeys(results), notChecked: notChecked)
        report.merged = true
        report.pending = catalogOrder.filter { latest[$0] == nil }
        return report
    }

    /// One line per status change, not per run (a 30 s cadence for months must not flood the log).
    private func logChanges(from old: [CheckResult], to new: [CheckResult]) {
        let before = Dictionary(old.map { ($0.key, $0.status) }, uniquingKeysWith: { first, _ in first })
        for result in new where before[result.key] != result.status {
            let metadata: Logger.Metadata = [
                "probe.check": "\(result.key)", "probe.status": "\(result.status.rawValue)",
                "probe.previous_status": "\(before[result.key]?.rawValue ?? "none")",
                "probe.duration_ms": "\(Int(result.durationMs.rounded()))",
            ]
            let message: Logger.Message = "\(result.status == .ok ? "check OK" : "check not OK"): \(result.summary)"
            if result.status == .ok {
                logger.info(message, metadata: metadata)
            } else {
                logger.warning(message, metadata: metadata)
            }
        }
    }
}
