import Foundation
import Logging
import ProbeCore
import ServiceLifecycle

/// Runs every check on its own cadence until graceful shutdown.
///
/// One loop per check: a check's runs are sequential, so two runs of one check never overlap (and the engine's
/// `InFlight` additionally skips a check whose previous run is still inside a C call past its deadline). A shared
/// `ConcurrencyLimit` bounds how many checks run at once. Generic over the clock, so tests drive it with a manual
/// clock instead of sleeping. On graceful shutdown the loops stop at once; a run in progress finishes (the engine
/// bounds it by its deadline plus a small grace) and its outcome is still delivered.
public struct Scheduler<C: Clock>: ServiceLifecycle.Service where C.Duration == Duration {
    public struct Entry: Sendable {
        public var id: CheckID
        public var interval: Double
        public var timeout: Double

        public init(id: CheckID, interval: Double, timeout: Double) {
            self.id = id
            self.interval = interval
            self.timeout = timeout
        }
    }

    public let entries: [Entry]
    let runner: any CheckRunner
    let observer: any RunObserver
    public let clock: C
    let policy: CadencePolicy
    let maxConcurrency: Int
    let liveness: Liveness<C>?
    /// Uniform in [0, 1); injectable so tests know the jitter.
    let random: @Sendable () -> Double
    let logger: Logger
    /// How long past its deadline a run may take before the watchdog counts it as late (the engine's grace).
    let overrunGrace: Double
    /// Requests to run a check before its slot (fresh evidence for alerting).
    let earlyRuns: EarlyRuns?

    public init(
        entries: [Entry], runner: any CheckRunner, observer: any RunObserver, clock: C,
        policy: CadencePolicy = CadencePolicy(), maxConcurrency: Int = 4, liveness: Liveness<C>? = nil,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "clearml-probe.scheduler"), overrunGrace: Double = 0.25,
        earlyRuns: EarlyRuns? = nil
    ) {
        self.entries = entries
        self.runner = runner
        self.observer = observer
        self.clock = clock
        self.policy = policy
        self.maxConcurrency = max(1, maxConcurrency)
        self.liveness = liveness
        self.random = random
        self.logger = logger
        self.overrunGrace = overrunGrace
        self.earlyRuns = earlyRuns
    }

    public func run() async throws {
        let limit = ConcurrencyLimit(maxConcurrency)
        logger.info(
            "scheduler started",
            metadata: [
                "probe.checks": "\(entries.count)", "probe.max_concurrency": "\(maxConcurrency)",
            ])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for entry in entries {
                    group.addTask { await loop(entry, limit: limit) }
                }
            }
        }
        await observer.finished()
        logger.info("scheduler stopped")
    }

    func loop(_ entry: Entry, limit: ConcurrencyLimit) async {
        var cadence = CheckCadence(interval: entry.interval)
        var next = clock.now.advanced(by: .seconds(cadence.initialDelay(policy, unit: random())))
        liveness?.expect(entry.id, by: next.advanced(by: .seconds(entry.timeout + overrunGrace)))
        defer { liveness?.forget(entry.id) }
        var lastStart: Date?
        var lastEarly: C.Instant?
        while !Task.isCancelled {
            do {
                let notBefore = lastEarly?.advanced(by: .seconds(entry.interval))
                let early = try await pause(entry.id, until: next, earlyNotBefore: notBefore, lastStart: lastStart)
                if early { lastEarly = clock.now }
                try await limit.acquire()
            } catch {
                return
            }
            let start = clock.now
            lastStart = Date()
            let results = await runner.run(entry.id)
            await limit.release()
            let end = clock.now
            let previousPeriod = cadence.period(policy)
            cadence.record(failed: CheckCadence.isFailure(results))
            let delay = cadence.delayAfterRun(
                runSeconds: start.duration(to: end).seconds, policy: policy, unit: random())
            next = end.advanced(by: .seconds(delay))
            liveness?.expect(entry.id, by: next.advanced(by: .seconds(entry.timeout + overrunGrace)))
            let backingOff = cadence.inBackoff(policy)
            if cadence.period(policy) != previousPeriod { logCadence(entry, cadence) }
            await observer.completed(
                RunOutcome(
                    id: entry.id, results: results, nextInSeconds: delay, periodSeconds: cadence.period(policy),
                    consecutiveFailures: cadence.consecutiveFailures, backingOff: backingOff))
        }
    }

    /// Sleeps until `next`, or until an early run is requested (not before `earlyNotBefore`: one early run per
    /// interval); true when it woke for an early run. Throws when cancelled.
    func pause(_ id: CheckID, until next: C.Instant, earlyNotBefore: C.Instant?, lastStart: Date?) async throws -> Bool
    {
        guard let earlyRuns else {
            try await clock.sleep(until: next, tolerance: nil)
            return false
        }
        while true {
            if clock.now >= next { return false }
            if earlyRuns.isPending(id) {
                if let earlyNotBefore, clock.now < earlyNotBefore {
                    try await clock.sleep(until: min(earlyNotBefore, next), tolerance: nil)
                    continue
                }
                if earlyRuns.take(id, lastStart: lastStart) { return true }
                continue
            }
            let clock = self.clock
            let woke = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { try await clock.sleep(until: next, tolerance: nil) } catch { return false }
                    return true
                }
                group.addTask {
                    await earlyRuns.wait(id)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            try Task.checkCancellation()
            if woke { return false }
        }
    }

    /// Logged only when the period changes, so a check stuck at the cap does not log every run.
    private func logCadence(_ entry: Entry, _ cadence: CheckCadence) {
        let metadata: Logger.Metadata = [
            "probe.check": "\(entry.id.rawValue)", "probe.failures": "\(cadence.consecutiveFailures)",
            "probe.period_s": "\(cadence.period(policy))",
        ]
        if cadence.inBackoff(policy) {
            logger.notice("check keeps failing: slower cadence", metadata: metadata)
        } else {
            logger.info("check recovered: back to its interval", metadata: metadata)
        }
    }
}
