import ProbeCore
import Runtime
import Testing

@Suite struct CheckCadenceTests {
    static let policy = CadencePolicy(jitter: 0.1, backoffCap: 300, initialSpread: 1)

    @Test(arguments: [
        // (interval, consecutive failures, expected period)
        (30.0, 0, 30.0), (30, 1, 30), (30, 2, 60), (30, 3, 120), (30, 4, 240), (30, 5, 300), (30, 50, 300),
        (30, 1000, 300),
        (600, 5, 600),  // an interval longer than the cap is never shortened
        (0.05, 3, 0.2),
    ])
    func periodDoublesFromTheSecondFailureUpToTheCap(interval: Double, failures: Int, expected: Double) {
        let cadence = CheckCadence(interval: interval, consecutiveFailures: failures)
        #expect(abs(cadence.period(Self.policy) - expected) < 1e-9)
        #expect(cadence.inBackoff(Self.policy) == (expected > interval))
    }

    @Test func oneGoodRunResetsTheBackoff() {
        var cadence = CheckCadence(interval: 30)
        for _ in 0..<6 { cadence.record(failed: true) }
        #expect(cadence.period(Self.policy) == 300)
        cadence.record(failed: false)
        #expect(cadence.consecutiveFailures == 0)
        #expect(cadence.period(Self.policy) == 30)
    }

    @Test(
        arguments: [(0.0, 27.0), (0.5, 30.0), (0.999999, 32.99994), (1.0, 33.0), (-3.0, 27.0), (Double.nan, 30.0)]
            as [(Double, Double)])
    func jitterStaysWithinTenPercent(unit: Double, expected: Double) {
        let period = CheckCadence(interval: 30).jitteredPeriod(Self.policy, unit: unit)
        #expect(abs(period - expected) < 1e-3)
    }

    @Test(arguments: [
        // (run seconds, expected delay after the run): the next run starts one period after this one started…
        (0.0, 30.0), (2.5, 27.5), (29.9, 0.1),
        // …or at once when the run took longer (never two at a time, never a burst of missed periods).
        (30, 0), (45, 0), (3600, 0),
    ])
    func delayCountsFromTheStartOfTheRun(run: Double, expected: Double) {
        let delay = CheckCadence(interval: 30).delayAfterRun(runSeconds: run, policy: Self.policy, unit: 0.5)
        #expect(abs(delay - expected) < 1e-9)
    }

    @Test(arguments: [(30.0, 0.0, 0.0), (30, 0.5, 0.5), (30, 1, 1), (0.2, 1, 0.2)])
    func firstRunsAreSpreadOverAtMostTheInitialSpread(interval: Double, unit: Double, expected: Double) {
        #expect(abs(CheckCadence(interval: interval).initialDelay(Self.policy, unit: unit) - expected) < 1e-9)
    }

    @Test(arguments: [
        ([Status.ok], false), ([.warning], false), ([.ok, .warning], false),
        ([.critical], true), ([.unknown], true), ([.ok, .critical], true),
    ])
    func failureMeansCriticalOrUnknown(statuses: [Status], failed: Bool) {
        let results = statuses.map { CheckResult(id: .apiserverPing, status: $0, summary: "x") }
        #expect(CheckCadence.isFailure(results) == failed)
    }

    @Test func aSkippedRunCountsAsAFailure() {
        #expect(CheckCadence.isFailure(nil))
    }
}

@Suite struct CycleTrackerTests {
    /// Feeds runs `(check, backing off)` and returns which of them completed a cycle.
    static func completions(_ checks: [CheckID], _ runs: [(CheckID, Bool)]) -> [Bool] {
        var tracker = CycleTracker(checks: checks)
        return runs.map { tracker.record($0.0, backingOff: $0.1) }
    }

    @Test func aCycleCompletesWhenEveryCheckRanOnce() {
        let done = Self.completions(
            [.apiserverPing, .webserverUI, .ingressRoutes],
            [
                (.apiserverPing, false), (.apiserverPing, false), (.webserverUI, false), (.ingressRoutes, false),
                (.ingressRoutes, false), (.webserverUI, false), (.apiserverPing, false),
            ])
        #expect(done == [false, false, false, true, false, false, true])
    }

    @Test func aCheckInBackoffDoesNotHoldCyclesUp() {
        let done = Self.completions(
            [.apiserverPing, .webserverUI],
            [
                (.apiserverPing, true), (.webserverUI, false), (.webserverUI, false), (.webserverUI, false),
                // It recovers: from the next cycle on it is waited for again.
                (.apiserverPing, false), (.webserverUI, false), (.webserverUI, false), (.apiserverPing, false),
            ])
        #expect(done == [false, true, true, true, false, true, false, true])
    }

    @Test func aCheckGoingIntoBackoffReleasesTheCurrentCycle() {
        let done = Self.completions([.apiserverPing, .webserverUI], [(.webserverUI, false), (.apiserverPing, true)])
        #expect(done == [false, true])
    }

    @Test func whenEveryCheckBacksOffTheCycleWaitsForAll() {
        let done = Self.completions(
            [.apiserverPing, .webserverUI],
            [
                (.apiserverPing, true), (.webserverUI, true), (.webserverUI, true), (.apiserverPing, true),
            ])
        #expect(done == [false, true, false, true])
    }

    @Test func unknownChecksAreIgnored() {
        #expect(Self.completions([.apiserverPing], [(.webserverUI, false), (.apiserverPing, false)]) == [false, true])
    }
}

@Suite struct LatencyHistoryTests {
    @Test func keepsTheNewestValuesOldestFirst() {
        var history = LatencyHistory(capacity: 3)
        for value in 1...5 { history.record("a", milliseconds: Double(value)) }
        #expect(history.values("a") == [3, 4, 5])
        history.record("b", milliseconds: 1)
        history.retain(keys: ["b"])
        #expect(history.values("a").isEmpty)
        #expect(history.keyCount == 1)
    }

    @Test func partialRingIsInOrder() {
        var history = LatencyHistory(capacity: 4)
        for value in 1...3 { history.record("a", milliseconds: Double(value)) }
        #expect(history.values("a") == [1, 2, 3])
        history.record("a", milliseconds: 4)
        #expect(history.values("a") == [1, 2, 3, 4])
    }
}
