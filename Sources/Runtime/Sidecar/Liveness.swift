import ProbeCore

/// The sidecar's own health, as `/healthz` and the container healthcheck see it.
public struct HealthVerdict: Sendable, Equatable {
    public var alive: Bool
    /// Why not, for `/healthz`'s body and the log.
    public var reason: String

    public init(alive: Bool, reason: String) {
        self.alive = alive
        self.reason = reason
    }
}

/// Anything that can say whether the sidecar is alive (read from the HTTP server's thread, so synchronous).
public protocol HealthSource: Sendable {
    var verdict: HealthVerdict { get }
}

/// When each check's loop is next expected to have finished a run. The scheduler writes an expectation after every
/// run; the watchdog compares them with the clock and keeps the verdict.
public final class Liveness<C: Clock>: HealthSource where C.Duration == Duration {
    private let expected = Locked<[CheckID: C.Instant]>([:])
    private let current = Locked(HealthVerdict(alive: true, reason: "starting"))

    public init() {}

    public func expect(_ id: CheckID, by instant: C.Instant) {
        expected.withLock { $0[id] = instant }
    }

    public func forget(_ id: CheckID) {
        _ = expected.withLock { $0.removeValue(forKey: id) }
    }

    /// Checks whose expected finish lies more than `tolerance` before `now`, most overdue first.
    public func overdue(at now: C.Instant, tolerance: Duration) -> [CheckID] {
        expected.withLock { map in
            map.filter { $0.value.advanced(by: tolerance) < now }.sorted { $0.value < $1.value }.map(\.key)
        }
    }

    public var verdict: HealthVerdict { current.current }

    public func setVerdict(_ verdict: HealthVerdict) { current.withLock { $0 = verdict } }
}
