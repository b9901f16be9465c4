import ProbeCore

/// What the scheduler tells its observer after each run of a check.
public struct RunOutcome: Sendable {
    public var id: CheckID
    /// Nil when the run was skipped (the previous one is still inside a C call past its deadline).
    public var results: [CheckResult]?
    /// Seconds until the next run is planned (jitter and backoff included).
    public var nextInSeconds: Double
    /// The period before jitter: longer than the interval while the check is backing off.
    public var periodSeconds: Double
    public var consecutiveFailures: Int
    public var backingOff: Bool

    public init(
        id: CheckID, results: [CheckResult]?, nextInSeconds: Double, periodSeconds: Double,
        consecutiveFailures: Int, backingOff: Bool
    ) {
        self.id = id
        self.results = results
        self.nextInSeconds = nextInSeconds
        self.periodSeconds = periodSeconds
        self.consecutiveFailures = consecutiveFailures
        self.backingOff = backingOff
    }
}

/// Receives every run's outcome, in the order the runs finish.
public protocol RunObserver: Sendable {
    func completed(_ outcome: RunOutcome) async
    /// The scheduler stopped: no more outcomes.
    func finished() async
}
