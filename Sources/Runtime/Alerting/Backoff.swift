import Foundation

/// Exponential backoff with full jitter (`rand(0, min(cap, base·2^attempt))`, AWS), never below a floor, and never
/// sooner than the platform's hint (Retry-After, retry_after).
public struct Backoff: Sendable, Equatable {
    public var base: Double = 5
    public var cap: Double = 900
    public var floor: Double = 1

    public init(base: Double = 5, cap: Double = 900, floor: Double = 1) {
        self.base = base
        self.cap = cap
        self.floor = floor
    }

    /// Seconds before attempt `attempt + 1`, after `attempt` failed ones (1-based). `unit` is a uniform draw in 0…1.
    public func delay(afterAttempt attempt: Int, hint: Double?, unit: Double) -> Double {
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        let jittered = max(floor, ceiling * min(1, max(0, unit)))
        return max(jittered, hint ?? 0)
    }
}
