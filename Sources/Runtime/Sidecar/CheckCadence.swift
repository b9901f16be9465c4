import ProbeCore

/// How a check's runs are spaced: a base interval, jitter, and a slower cadence while it keeps failing.
public struct CadencePolicy: Sendable, Equatable {
    /// Each period is the base period ± this fraction, so checks with one interval drift apart.
    public var jitter: Double
    /// The longest period backoff may reach, in seconds (never shorter than the check's own interval).
    public var backoffCap: Double
    /// First runs are spread over `[0, min(interval, initialSpread)]` seconds after start.
    public var initialSpread: Double

    public init(jitter: Double = 0.1, backoffCap: Double = 300, initialSpread: Double = 1) {
        self.jitter = min(max(jitter, 0), 0.5)
        self.backoffCap = backoffCap
        self.initialSpread = max(0, initialSpread)
    }
}

/// The cadence of one check: pure, so every rule has a table test.
///
/// Backoff: a dead Mongo makes every apiserver request hold a worker for ~30 s (docs/footprint.md), so a check that keeps
/// failing must not keep knocking at its normal rate. The first failure keeps the interval (the alerting counts two
/// consecutive failures before it fires, so the second sample comes at the usual time); from the second on the
/// period doubles, `interval × 2^(failures−1)`, capped at `backoffCap`; one good run resets it.
public struct CheckCadence: Sendable, Equatable {
    public var interval: Double
    public private(set) var consecutiveFailures: Int = 0

    public init(interval: Double, consecutiveFailures: Int = 0) {
        self.interval = interval
        self.consecutiveFailures = consecutiveFailures
    }

    /// A run "fails" for cadence purposes when it was skipped (its previous run is still inside a C call) or its
    /// worst result is critical or unknown. A warning (slow, near a limit) keeps the normal cadence.
    public static func isFailure(_ results: [CheckResult]?) -> Bool {
        guard let results else { return true }
        let worst = Status.worst(results.map(\.status))
        return worst == .critical || worst == .unknown
    }

    public mutating func record(failed: Bool) {
        consecutiveFailures = failed ? min(consecutiveFailures + 1, 1_000) : 0
    }

    /// True while the period is longer than the interval.
    public func inBackoff(_ policy: CadencePolicy) -> Bool { period(policy) > interval }

    /// The period before jitter.
    public func period(_ policy: CadencePolicy) -> Double {
        guard consecutiveFailures >= 2 else { return interval }
        let cap = max(interval, policy.backoffCap)
        let exponent = Double(min(consecutiveFailures - 1, 30))
        return min(interval * pow2(exponent), cap)
    }

    /// The period with jitter; `unit` is a random number in [0, 1).
    public func jitteredPeriod(_ policy: CadencePolicy, unit: Double) -> Double {
        period(policy) * (1 + policy.jitter * (2 * clampUnit(unit) - 1))
    }

    /// Seconds to wait after a run that took `runSeconds`, so the next one starts one (jittered) period after
    /// this one started, or at once when the run itself took longer: runs of one check never overlap, and after a
    /// long pause (a suspended host) each check runs once, not once per missed period.
    public func delayAfterRun(runSeconds: Double, policy: CadencePolicy, unit: Double) -> Double {
        max(0, jitteredPeriod(policy, unit: unit) - max(0, runSeconds))
    }

    /// Seconds from start to the first run.
    public func initialDelay(_ policy: CadencePolicy, unit: Double) -> Double {
        min(interval, policy.initialSpread) * clampUnit(unit)
    }

    private func clampUnit(_ unit: Double) -> Double { unit.isFinite ? min(max(unit, 0), 1) : 0.5 }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
