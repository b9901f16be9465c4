import Foundation
import Notifiers

/// Paces deliveries per destination (`RateLimit`: its token buckets, every one must admit), and holds a destination
/// back when the platform's headers say its bucket is empty (`Destination.pacingDelay`). In memory: after a restart
/// the buckets start full, which every platform's burst allows.
public struct DeliveryPacer: Sendable {
    var buckets: [String: [TokenBucket]] = [:]
    var heldUntil: [String: Date] = [:]

    public init() {}

    /// Whether a message may go to `destination` at `now`; takes a token from each of its buckets when it may.
    public mutating func admit(_ destination: String, limit: RateLimit?, now: Date) -> Bool {
        if let held = heldUntil[destination], held > now { return false }
        guard let limit, !limit.buckets.isEmpty else { return true }
        var current = buckets[destination] ?? limit.buckets.map { TokenBucket($0, now: now) }
        guard current.allSatisfy({ $0.available(at: now) >= 1 }) else {
            buckets[destination] = current
            return false
        }
        for index in current.indices { current[index].take(at: now) }
        buckets[destination] = current
        return true
    }

    /// When `destination` may take its next message (`now` when it may now).
    public func nextAdmission(_ destination: String, now: Date) -> Date {
        var at = max(now, heldUntil[destination] ?? now)
        for bucket in buckets[destination] ?? [] { at = max(at, bucket.nextToken(after: now)) }
        return at
    }

    /// The platform asked for `seconds` before the next request.
    public mutating func hold(_ destination: String, seconds: Double, now: Date) {
        let until = now.addingTimeInterval(seconds)
        heldUntil[destination] = max(heldUntil[destination] ?? until, until)
    }
}
