import Foundation

/// Time for the delivery loop, injectable so tests drive it without sleeping.
public protocol AlertClock: Sendable {
    func now() -> Date
    /// Sleeps; throws when the task is cancelled.
    func sleep(seconds: Double) async throws
}

/// Wall-clock time.
public struct SystemAlertClock: AlertClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
    }
}
