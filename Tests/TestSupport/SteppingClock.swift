import Foundation
import ProbeCore

/// A clock that moves only when a test says so: sleepers wake when `advance` passes their deadline. Lets the
/// scheduler, the watchdog and the state saver be tested for hours of schedule in milliseconds, without sleeping.
public final class SteppingClock: Clock, @unchecked Sendable {
    // @unchecked: every access to `state` holds `lock`.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "t+\(offset)" }
        /// Seconds since the clock's zero.
        public var seconds: Double { offset.seconds }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, Error>
    }

    private let lock = NSLock()
    private var instant = Instant(offset: .zero)
    private var sleepers: [Sleeper] = []
    private var nextID = 0

    public init() {}

    public var now: Instant { lock.withLock { instant } }
    public var minimumResolution: Duration { .zero }

    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                lock.lock()
                if deadline <= instant {
                    lock.unlock()
                    continuation.resume()
                } else if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else {
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    lock.unlock()
                }
            }
        } onCancel: {
            let sleeper: Sleeper? = lock.withLock {
                guard let index = sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward at once (as a suspended host does) and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = lock.withLock {
            instant = instant.advanced(by: duration)
            let due = sleepers.filter { $0.deadline <= instant }.sorted { $0.deadline < $1.deadline }
            sleepers.removeAll { $0.deadline <= instant }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Waits (in real time, briefly) until at least `count` tasks sleep on this clock: the system is idle again.
    public func waitForSleepers(_ count: Int, timeout: Double = 5) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while sleeperCount < count {
            guard Date() < deadline else {
                throw TestSupportError("only \(sleeperCount) of \(count) sleepers after \(timeout) s")
            }
            try await Task.sleep(nanoseconds: 200_000)
        }
    }

    /// Waits until what runs on this clock is idle: at least `minimum` sleepers and their number unchanged over a
    /// few real milliseconds (tasks woken by `advance` have run and gone back to sleep).
    public func settle(minimum: Int = 1, timeout: Double = 5) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var stable = 0
        var last = -1
        while stable < 4 {
            guard Date() < deadline else { throw TestSupportError("clock did not settle: \(sleeperCount) sleepers") }
            try await Task.sleep(nanoseconds: 500_000)
            let count = sleeperCount
            stable = count == last && count >= minimum ? stable + 1 : 0
            last = count
        }
    }

    /// Advances in steps of `step` up to `total`, settling after each step, so runs happen at the times they would
    /// in real life rather than all at the end.
    public func run(for total: Duration, step: Duration, minimumSleepers: Int = 1) async throws {
        var elapsed = Duration.zero
        try await settle(minimum: minimumSleepers)
        while elapsed < total {
            advance(by: step)
            elapsed += step
            try await settle(minimum: minimumSleepers)
        }
    }
}
