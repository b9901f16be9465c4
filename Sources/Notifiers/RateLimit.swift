import Foundation

/// The pace a destination takes messages at: one or more token buckets, every one of which must have a token for a
/// message to go (docs/chat-platforms.md, "Rate limits": Slack and Teams ≈ 1/s, Discord ~5 per 2 s and 30/min per channel, Telegram
/// 1/s per chat and 20/min per group, Google Chat ≈ 1/s per space, PagerDuty ~2/s per key). A burst of incidents
/// (a whole stack going down) is then delivered at the platform's pace instead of drawing 429s.
public struct RateLimit: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        /// Tokens added per second.
        public var perSecond: Double
        /// Tokens it holds at most (the burst).
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = max(1, burst)
        }

        /// `count` messages per `seconds`, all at once at most.
        public static func messages(_ count: Double, per seconds: Double) -> Bucket {
            Bucket(perSecond: count / seconds, burst: count)
        }
    }

    public var buckets: [Bucket]

    public init(_ buckets: [Bucket]) { self.buckets = buckets }

    /// One message a second, no burst.
    public static let onePerSecond = RateLimit([.messages(1, per: 1)])

    /// The pace of each platform (its `Platform.pace`); nil for Alertmanager (its own API, no limit) and the
    /// generic webhook (unknown).
    public static func platformDefault(_ kind: DestinationKind) -> RateLimit? { kind.platform.pace }
}
