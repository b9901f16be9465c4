import Foundation
import ProbeCore
import Runtime
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing

/// A check runner that takes `hold` seconds of the manual clock per run and records what a scheduler must never do.
actor FakeRunner: CheckRunner {
    let clock: SteppingClock
    var statuses: [CheckID: Status] = [:]
    var holds: [CheckID: Double] = [:]
    private(set) var starts: [CheckID: [Double]] = [:]
    private(set) var running: [CheckID: Int] = [:]
    private(set) var overlaps = 0
    private(set) var concurrent = 0
    private(set) var maxConcurrent = 0

    init(clock: SteppingClock, holds: [CheckID: Double] = [:], statuses: [CheckID: Status] = [:]) {
        self.clock = clock
        self.holds = holds
        self.statuses = statuses
    }

    func set(_ id: CheckID, status: Status) { statuses[id] = status }

    func run(_ id: CheckID) async -> [CheckResult]? {
        if running[id, default: 0] > 0 { overlaps += 1 }
        running[id, default: 0] += 1
        concurrent += 1
        maxConcurrent = max(maxConcurrent, concurrent)
        starts[id, default: []].append(clock.now.seconds)
        if let hold = holds[id] {
            // Unstructured, like the engine's guarded run: a run inside a C call does not notice cancellation.
            let clock = clock
            await Task { try? await clock.sleep(until: clock.now.advanced(by: .seconds(hold))) }.value
        }
        running[id, default: 0] -= 1
        concurrent -= 1
        return [CheckResult(id: id, status: statuses[id] ?? .ok, summary: "fake")]
    }

    /// Seconds between consecutive starts of a check.
    func gaps(_ id: CheckID) -> [Double] {
        let times = starts[id] ?? []
        return zip(times.dropFirst(), times).map { $0 - $1 }
    }
}

/// Records outcomes in order.
actor Outcomes: RunObserver {
    private(set) var all: [RunOutcome] = []
    private(set) var finishedCalled = false

    func completed(_ outcome: RunOutcome) async { all.append(outcome) }
    func finished() async { finishedCalled = true }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct SchedulerTests {
    static func scheduler(
        _ entries: [(CheckID, Double)], runner: FakeRunner, observer: Outcomes = Outcomes(), clock: SteppingClock,
        policy: CadencePolicy = CadencePolicy(jitter: 0, backoffCap: 300, initialSpread: 0),
        maxConcurrency: Int = 4, liveness: Liveness<SteppingClock>? = nil,
        random: @escaping @Sendable () -> Double = { 0.5 }
    ) -> Scheduler<SteppingClock> {
        Scheduler(
            entries: entries.map { .init(id: $0.0, interval: $0.1, timeout: 3) }, runner: runner, observer: observer,
            clock: clock, policy: policy, maxConcurrency: maxConcurrency, liveness: liveness, random: random)
    }

    /// Runs `body` while the scheduler runs, then shuts it down gracefully.
    static func running(_ scheduler: Scheduler<SteppingClock>, _ body: () async throws -> Void) async throws {
        try await testGracefulShutdown { trigger in
            let done = Locked(false)
            let task = Task {
                try await scheduler.run()
                done.withLock { $0 = true }
            }
            try await body()
            trigger.triggerGracefulShutdown()
            // A run in progress finishes on the clock; keep time moving until the scheduler has stopped.
            let clock = scheduler.clock
            while !done.current {
                clock.advance(by: .seconds(1))
                try await Task.sleep(nanoseconds: 1_000_000)
            }
            try await task.value
        }
    }

    @Test func runsEachCheckAtItsOwnInterval() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock)
        let scheduler = Self.scheduler([(.apiserverPing, 10), (.webserverUI, 30)], runner: runner, clock: clock)
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(300), step: .seconds(1), minimumSleepers: 2)
        }
        #expect(await runner.gaps(.apiserverPing) == Array(repeating: 10, count: 30))
        #expect(await runner.gaps(.webserverUI) == Array(repeating: 30, count: 10))
        #expect(await runner.overlaps == 0)
    }

    @Test func anEarlyRunComesAtOnceButAtMostOncePerInterval() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock)
        let early = EarlyRuns()
        let scheduler = Scheduler(
            entries: [.init(id: .apiserverPing, interval: 30, timeout: 3)], runner: runner, observer: Outcomes(),
            clock: clock, policy: CadencePolicy(jitter: 0, backoffCap: 300, initialSpread: 0), random: { 0.5 },
            earlyRuns: early)
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(5), step: .seconds(1), minimumSleepers: 1)
            early.request([.apiserverPing], after: Date())
            try await clock.run(for: .seconds(5), step: .seconds(1), minimumSleepers: 1)
            // A second request within the interval waits: the next regular run (one period after the early one) answers it.
            early.request([.apiserverPing], after: Date())
            try await clock.run(for: .seconds(60), step: .seconds(1), minimumSleepers: 1)
        }
        let starts = await runner.starts[.apiserverPing] ?? []
        #expect(starts.prefix(4).map { $0.rounded() } == [0, 5, 35, 65], "starts: \(starts)")
        #expect(await runner.overlaps == 0)
    }

    @Test func jitterKeepsEachPeriodWithinItsBounds() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock)
        let scheduler = Self.scheduler(
            [(.apiserverPing, 10), (.webserverUI, 10)], runner: runner, clock: clock,
            policy: CadencePolicy(jitter: 0.1, backoffCap: 300, initialSpread: 1),
            random: { Double.random(in: 0..<1) })
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(300), step: .milliseconds(250), minimumSleepers: 2)
        }
        for id in [CheckID.apiserverPing, .webserverUI] {
            let gaps = await runner.gaps(id)
            #expect(gaps.count >= 25)
            // ±10 % of 10 s, plus the 0.25 s resolution of the stepping clock.
            #expect(gaps.allSatisfy { $0 >= 9 - 1e-9 && $0 <= 11.25 + 1e-9 }, "gaps: \(gaps)")
            #expect(Set(gaps).count > 1, "jitter should vary the period")
        }
        let first = await [runner.starts[.apiserverPing]![0], runner.starts[.webserverUI]![0]]
        #expect(first.allSatisfy { $0 <= 1.25 }, "first runs are spread over at most a second: \(first)")
    }

    @Test func aSlowRunIsNeverOverlappedByTheNextOne() async throws {
        let clock = SteppingClock()
        // Each run takes 5 s, five times its interval.
        let runner = FakeRunner(clock: clock, holds: [.apiserverPing: 5])
        let scheduler = Self.scheduler([(.apiserverPing, 1)], runner: runner, clock: clock)
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(60), step: .milliseconds(500))
        }
        #expect(await runner.overlaps == 0)
        let gaps = await runner.gaps(.apiserverPing)
        #expect(gaps.count >= 10)
        #expect(gaps.allSatisfy { $0 >= 5 }, "the next run starts only after the previous one ended: \(gaps)")
    }

    @Test func concurrencyIsBounded() async throws {
        let clock = SteppingClock()
        let ids: [CheckID] = [.apiserverPing, .webserverUI, .ingressRoutes, .ingressTLS, .ingressHeaders, .mongoPing]
        let runner = FakeRunner(clock: clock, holds: Dictionary(uniqueKeysWithValues: ids.map { ($0, 2.0) }))
        let scheduler = Self.scheduler(ids.map { ($0, 1) }, runner: runner, clock: clock, maxConcurrency: 2)
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(30), step: .milliseconds(500))
        }
        #expect(await runner.maxConcurrent == 2)
        #expect(await runner.overlaps == 0)
        for id in ids { #expect((await runner.starts[id]?.count ?? 0) >= 3, "\(id) was starved") }
    }

    @Test func aFailingCheckBacksOffAndRecoversOnOK() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock, statuses: [.apiserverPing: .critical])
        let outcomes = Outcomes()
        let scheduler = Self.scheduler(
            [(.apiserverPing, 10), (.webserverUI, 10)], runner: runner, observer: outcomes, clock: clock,
            policy: CadencePolicy(jitter: 0, backoffCap: 80, initialSpread: 0))
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(400), step: .seconds(1), minimumSleepers: 2)
            await runner.set(.apiserverPing, status: .ok)
            try await clock.run(for: .seconds(200), step: .seconds(1), minimumSleepers: 2)
        }
        let gaps = await runner.gaps(.apiserverPing)
        // 10 after the first failure, then doubling to the 80 s cap; after the first OK run, back to 10.
        #expect(Array(gaps.prefix(6)) == [10, 20, 40, 80, 80, 80], "gaps: \(gaps)")
        #expect(Array(gaps.suffix(5)) == [10, 10, 10, 10, 10], "gaps: \(gaps)")
        // The healthy check kept its cadence all along.
        #expect(Set(await runner.gaps(.webserverUI)) == [10])
        let backedOff = await outcomes.all.filter { $0.id == .apiserverPing && $0.backingOff }
        #expect(backedOff.map(\.periodSeconds).max() == 80)
    }

    @Test func afterALongPauseEachCheckRunsOnceNotOncePerMissedPeriod() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock)
        let ids: [CheckID] = [.apiserverPing, .webserverUI, .ingressRoutes]
        let scheduler = Self.scheduler(ids.map { ($0, 10) }, runner: runner, clock: clock)
        try await Self.running(scheduler) {
            try await clock.run(for: .seconds(30), step: .seconds(1), minimumSleepers: 3)
            let before = await runner.starts
            // The host is suspended for an hour.
            clock.advance(by: .seconds(3600))
            try await clock.settle(minimum: 3)
            let after = await runner.starts
            for id in ids {
                #expect((after[id]?.count ?? 0) - (before[id]?.count ?? 0) == 1, "\(id) caught up with a burst")
            }
            try await clock.run(for: .seconds(30), step: .seconds(1), minimumSleepers: 3)
        }
        for id in ids {
            let gaps = await runner.gaps(id)
            #expect(gaps.filter { $0 < 10 }.isEmpty, "\(id): \(gaps)")
            #expect(Array(gaps.suffix(3)) == [10, 10, 10])
        }
    }

    @Test func gracefulShutdownLetsTheRunInProgressFinishAndStopsTheRest() async throws {
        let clock = SteppingClock()
        let runner = FakeRunner(clock: clock, holds: [.apiserverPing: 5])
        let outcomes = Outcomes()
        let scheduler = Self.scheduler(
            [(.apiserverPing, 10), (.webserverUI, 10)], runner: runner, observer: outcomes, clock: clock)
        try await testGracefulShutdown { trigger in
            let task = Task { try await scheduler.run() }
            try await clock.settle(minimum: 2)
            // apiserver.ping is now inside its 5 s run; webserver.ui ran and sleeps.
            clock.advance(by: .seconds(1))
            try await clock.settle(minimum: 2)
            trigger.triggerGracefulShutdown()
            try await clock.settle(minimum: 1)
            #expect(await !outcomes.finishedCalled, "the scheduler must wait for the run in progress")
            clock.advance(by: .seconds(5))
            try await task.value
        }
        #expect(await outcomes.finishedCalled)
        #expect(await outcomes.all.contains { $0.id == .apiserverPing }, "the last run's outcome is still delivered")
        #expect(await runner.starts[.apiserverPing]?.count == 1)
        #expect(await runner.starts[.webserverUI]?.count == 1)
    }
}
