import Foundation
import ProbeCore

/// Everything the HTTP endpoint serves, replaced as a whole after every run: requests read it and never probe.
public struct StatusSnapshot: Sendable {
    public struct Cadence: Sendable, Equatable {
        public var intervalSeconds: Double
        public var periodSeconds: Double
        public var consecutiveFailures: Int
        public var lastRunAt: Date?

        public init(
            intervalSeconds: Double, periodSeconds: Double, consecutiveFailures: Int = 0, lastRunAt: Date? = nil
        ) {
            self.intervalSeconds = intervalSeconds
            self.periodSeconds = periodSeconds
            self.consecutiveFailures = consecutiveFailures
            self.lastRunAt = lastRunAt
        }
    }

    /// The latest result of every check, re-analysed as one report; nil until the first run finished.
    public var report: Report?
    public var history: LatencyHistory
    public var cadence: [CheckID: Cadence]
    public var cycles: Int
    public var lastCycleAt: Date?
    public var runs: Int
    public var overruns: [CheckID: Int]
    /// Nil while no alerting pipeline is attached.
    public var alerts: AlertSummary?
    public var startedAt: Date
    public var instance: String

    public init(
        report: Report? = nil, history: LatencyHistory = LatencyHistory(), cadence: [CheckID: Cadence] = [:],
        cycles: Int = 0, lastCycleAt: Date? = nil, runs: Int = 0, overruns: [CheckID: Int] = [:],
        alerts: AlertSummary? = nil, startedAt: Date = Date(), instance: String = "clearml-probe"
    ) {
        self.report = report
        self.history = history
        self.cadence = cadence
        self.cycles = cycles
        self.lastCycleAt = lastCycleAt
        self.runs = runs
        self.overruns = overruns
        self.alerts = alerts
        self.startedAt = startedAt
        self.instance = instance
    }
}

/// The latest snapshot, shared between the scheduler side and the HTTP server's thread.
public final class StatusBoard: Sendable {
    private let box: Locked<StatusSnapshot>

    public init(_ initial: StatusSnapshot = StatusSnapshot()) { box = Locked(initial) }

    public var snapshot: StatusSnapshot { box.current }

    public func publish(_ snapshot: StatusSnapshot) { box.withLock { $0 = snapshot } }
}

/// The version string shown in `/metrics` build info and the status page.
public enum BuildInfo {
    public static let version = "0.1.0"
}
