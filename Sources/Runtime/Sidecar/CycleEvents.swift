import Foundation

/// A finished cycle: every check at its normal cadence ran once since the previous one.
public struct CycleInfo: Sendable, Equatable {
    public var number: Int
    public var at: Date
    public var status: String

    public init(number: Int, at: Date, status: String) {
        self.number = number
        self.at = at
        self.status = status
    }
}

/// Fans finished cycles out to their listeners (heartbeat, Alertmanager watchdog) without ever blocking the
/// scheduler: each listener keeps only the newest cycle it has not handled yet.
public final class CycleEvents: Sendable {
    private let listeners = Locked<[AsyncStream<CycleInfo>.Continuation]>([])

    public init() {}

    /// Subscribe before the scheduler starts (in the listener's init), so no cycle is missed.
    public func subscribe() -> AsyncStream<CycleInfo> {
        let (stream, continuation) = AsyncStream.makeStream(of: CycleInfo.self, bufferingPolicy: .bufferingNewest(1))
        listeners.withLock { $0.append(continuation) }
        return stream
    }

    public func publish(_ cycle: CycleInfo) {
        for listener in listeners.current { listener.yield(cycle) }
    }

    public func finish() {
        for listener in listeners.withLock({ list in
            defer { list.removeAll() }
            return list
        }) { listener.finish() }
    }
}
