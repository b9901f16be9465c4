import Logging
import ProbeCore
import ServiceLifecycle

/// Watches the scheduler: when a check's loop is overdue by more than `tolerance` (no run finished long after it
/// was expected), the scheduler is wedged and the process must exit so the container's restart policy acts (under
/// Compose an unhealthy status alone restarts nothing). It also keeps the verdict `/healthz` serves.
///
/// A host that was suspended wakes with every expectation in the past; the watchdog notices its own late wake-up
/// and gives the loops one `tolerance` to run again before judging.
public struct LivenessWatchdog<C: Clock>: ServiceLifecycle.Service where C.Duration == Duration {
    let clock: C
    let liveness: Liveness<C>
    let tolerance: Duration
    let checkEvery: Duration
    let onWedged: @Sendable (String) -> Void
    let logger: Logger

    public init(
        clock: C, liveness: Liveness<C>, tolerance: Duration, checkEvery: Duration = .seconds(2),
        logger: Logger = Logger(label: "clearml-probe.watchdog"), onWedged: @escaping @Sendable (String) -> Void
    ) {
        self.clock = clock
        self.liveness = liveness
        self.tolerance = tolerance
        self.checkEvery = checkEvery
        self.onWedged = onWedged
        self.logger = logger
    }

    /// 3× the largest interval plus timeout in all (design: "no completed cycle within 3× …"): the expectation a
    /// loop writes already includes one period and one timeout, so the tolerance adds two more.
    public static func tolerance(intervals: [Double], timeouts: [Double]) -> Duration {
        .seconds(2 * ((intervals.max() ?? 30) + (timeouts.max() ?? 3)) + 1)
    }

    public func run() async throws {
        liveness.setVerdict(HealthVerdict(alive: true, reason: "scheduler running"))
        do {
            try await cancelWhenGracefulShutdown { try await watch() }
        } catch is WatchdogError {
            throw WatchdogError.wedged
        } catch {}
    }

    func watch() async throws {
        var wake = clock.now.advanced(by: checkEvery)
        var judgeFrom = clock.now
        while true {
            try await clock.sleep(until: wake, tolerance: nil)
            let now = clock.now
            // Woke far later than asked: the host (or the whole process) was paused. Judge nothing until the loops
            // have had a fair chance to run again.
            if wake.duration(to: now) > checkEvery * 3 + .seconds(5) {
                logger.notice(
                    "woke late: the host was paused; the scheduler gets time to catch up",
                    metadata: [
                        "probe.late_s": "\(Int(wake.duration(to: now).seconds))"
                    ])
                judgeFrom = now.advanced(by: tolerance)
            }
            wake = now.advanced(by: checkEvery)
            guard now >= judgeFrom else { continue }
            let overdue = liveness.overdue(at: now, tolerance: tolerance)
            guard let first = overdue.first else {
                liveness.setVerdict(HealthVerdict(alive: true, reason: "scheduler running"))
                continue
            }
            let reason =
                "scheduler wedged: \(first.rawValue) has not finished a run for longer than "
                + "\(Int(tolerance.seconds)) s past its schedule"
            liveness.setVerdict(HealthVerdict(alive: false, reason: reason))
            logger.critical(
                "\(reason); exiting so the restart policy acts",
                metadata: [
                    "probe.check": "\(first.rawValue)", "probe.overdue_checks": "\(overdue.count)",
                ])
            onWedged(reason)
            throw WatchdogError.wedged
        }
    }
}

public enum WatchdogError: Error, CustomStringConvertible {
    case wedged

    public var description: String { "the scheduler is wedged" }
}
