import Foundation
import ProbeCore
import Probes
import Runtime
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct LivenessWatchdogTests {
    /// A runner whose run never returns (a wedged scheduler: nothing finishes).
    struct StuckRunner: CheckRunner {
        func run(_ id: CheckID) async -> [CheckResult]? {
            await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            return nil
        }
    }

    @Test func aWedgedSchedulerMakesTheWatchdogGiveUp() async throws {
        let clock = SteppingClock()
        let liveness = Liveness<SteppingClock>()
        let wedged = Locked<String?>(nil)
        let scheduler = Scheduler(
            entries: [.init(id: .apiserverPing, interval: 10, timeout: 3)], runner: StuckRunner(),
            observer: Outcomes(), clock: clock, policy: CadencePolicy(jitter: 0, initialSpread: 0), liveness: liveness)
        let tolerance = LivenessWatchdog<SteppingClock>.tolerance(intervals: [10], timeouts: [3])
        let watchdog = LivenessWatchdog(clock: clock, liveness: liveness, tolerance: tolerance, checkEvery: .seconds(1))
        { reason in
            wedged.withLock { $0 = reason }
        }
        try await testGracefulShutdown { _ in
            let schedulerTask = Task { try await scheduler.run() }
            let watchdogTask = Task { try await watchdog.run() }
            var seconds = 0
            while wedged.current == nil, seconds < 200 {
                try await clock.settle(minimum: 0)
                clock.advance(by: .seconds(1))
                seconds += 1
            }
            await #expect(throws: WatchdogError.self) { try await watchdogTask.value }
            #expect(wedged.current?.contains("apiserver.ping") == true)
            #expect(!liveness.verdict.alive)
            // 3 × (interval + timeout) in all, with a few seconds of slack for the check period.
            #expect(
                (tolerance.seconds + 3...tolerance.seconds + 3 + 6).contains(Double(seconds)),
                "gave up after \(seconds) s")
            schedulerTask.cancel()
        }
    }

    @Test func aHealthySchedulerStaysAliveAndAPausedHostIsNotAWedge() async throws {
        let clock = SteppingClock()
        let liveness = Liveness<SteppingClock>()
        let wedged = Locked<String?>(nil)
        let runner = FakeRunner(clock: clock)
        let scheduler = Scheduler(
            entries: [
                .init(id: .apiserverPing, interval: 10, timeout: 3), .init(id: .webserverUI, interval: 10, timeout: 3),
            ],
            runner: runner, observer: Outcomes(), clock: clock, policy: CadencePolicy(jitter: 0, initialSpread: 0),
            liveness: liveness)
        let watchdog = LivenessWatchdog(
            clock: clock, liveness: liveness,
            tolerance: LivenessWatchdog<SteppingClock>.tolerance(intervals: [10], timeouts: [3]),
            checkEvery: .seconds(1)
        ) { reason in wedged.withLock { $0 = reason } }
        try await testGracefulShutdown { trigger in
            let schedulerTask = Task { try await scheduler.run() }
            let watchdogTask = Task { try await watchdog.run() }
            try await clock.run(for: .seconds(120), step: .seconds(1), minimumSleepers: 3)
            #expect(liveness.verdict.alive)
            // The host sleeps for an hour: every expectation is now far in the past.
            clock.advance(by: .seconds(3600))
            try await clock.run(for: .seconds(120), step: .seconds(1), minimumSleepers: 3)
            #expect(wedged.current == nil)
            #expect(liveness.verdict.alive)
            trigger.triggerGracefulShutdown()
            try await schedulerTask.value
            try await watchdogTask.value
        }
    }
}

@Suite struct EngineRunOneTests {
    struct Slow: Check {
        func run(_ context: CheckContext) async -> [CheckResult] {
            try? await Task.sleep(nanoseconds: 300_000_000)
            return [CheckResult(id: context.id, status: .ok, summary: "done")]
        }
    }

    @Test func aCheckStillInFlightIsSkippedNotOverlapped() async throws {
        let loaded = try LoadedConfig.load(yaml: "checks: {}\n", file: "<test>")
        let engine = Engine(loaded: loaded)
        let configured = ConfiguredCheck(id: .apiserverPing, settings: CheckSettings(timeout: 2), plan: .ready(Slow()))
        let state = ProbeState()
        async let first = engine.runOne(configured, Slow(), state: state)
        try await Task.sleep(nanoseconds: 50_000_000)
        let second = await engine.runOne(configured, Slow(), state: state)
        #expect(second == nil)
        #expect(await first?.first?.summary == "done")
        #expect(await engine.runOne(configured, Slow(), state: state)?.count == 1)
    }
}
