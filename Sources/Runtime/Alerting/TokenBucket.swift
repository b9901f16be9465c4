import Foundation
import Notifiers

/// A token bucket on a caller's clock: `perSecond` tokens flow in up to `burst`; a message takes one. Pure.
public struct TokenBucket: Sendable, Equatable {
    public let perSecond: Double
    public let burst: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Date

    /// Starts full.
    public init(_ bucket: RateLimit.Bucket, now: Date) {
        perSecond = bucket.perSecond
        burst = bucket.burst
        tokens = bucket.burst
        updatedAt = now
    }

    /// The tokens at `now` (a clock that went back adds nothing).
    public func available(at now: Date) -> Double {
        min(burst, tokens + max(0, now.timeIntervalSince(updatedAt)) * perSecond)
    }

    /// When a whole token will be there (`now` when one is).
    public func nextToken(after now: Date) -> Date {
        let have = available(at: now)
        if have >= 1 || perSecond <= 0 { return now }
        return now.addingTimeInterval((1 - have) / perSecond)
    }

    /// Takes one token at `now`.
    public mutating func take(at now: Date) {
        tokens = available(at: now) - 1
        updatedAt = max(updatedAt, now)
    }
}
