import Foundation
import ProbeCore

/// The request a destination wants sent: built by a pure function, so golden-payload tests need no network.
public struct OutgoingRequest: Sendable, Equatable {
    public var url: String
    public var method: String
    public var headers: [String: String]
    public var body: Data

    public init(
        url: String, method: String = "POST", headers: [String: String] = ["Content-Type": "application/json"],
        body: Data
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// What came back from a delivery attempt, as the transport saw it.
public struct DeliveryResponse: Sendable, Equatable {
    /// nil when there was no HTTP answer (refused, timeout, TLS).
    public var status: Int?
    public var headers: [String: String]
    public var body: String
    /// The transport error when there was no HTTP answer (already redacted).
    public var transportError: String?

    public init(status: Int?, headers: [String: String] = [:], body: String = "", transportError: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.transportError = transportError
    }
}

/// How a destination judges a delivery attempt (docs/chat-platforms.md: success codes, rate-limit hints, permanent errors).
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// Try again; `after` is the platform's hint in seconds (Retry-After, retry_after), used as the minimum delay.
    case retry(after: Double?, reason: String)
    /// Never retry; goes to the dead-letter list.
    case permanent(reason: String)
}

/// One alert destination (Slack, a signed webhook, …): one file per kind (a `Platform`), one case in `DestinationKind`.
public protocol Destination: Sendable {
    /// The name in config and logs ("slack", "ops-webhook"); never the URL.
    var name: String { get }
    var kind: DestinationKind { get }
    /// Builds the request for a message. Pure: same message, same bytes (signing uses `now`).
    func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest
    /// Judges the answer.
    func classify(_ response: DeliveryResponse) -> DeliveryOutcome
    /// True when a permanent answer means the destination itself is gone (revoked, archived, HTTP 410), so queued
    /// messages go straight to the dead letters until its configuration changes. Default: never.
    func disables(_ response: DeliveryResponse) -> Bool
    /// Seconds a delivery attempt may take, connection included. Default: 15.
    var timeout: Double { get }
    /// Where it sends, fit to print (`Redact.url`: scheme, host and port only). Default: `<redacted>`.
    var redactedURL: String { get }
    /// Its credentials (the URL itself for most chat webhooks, a signing secret), for redaction. Default: none.
    var secrets: [Secret] { get }
    /// Changes when the address or credentials change, so a destination disabled by a 410 comes back when fixed.
    var fingerprint: String { get }
    /// The pace it takes messages at (`RateLimit`); nil: no limit. Default: the platform's.
    var rateLimit: RateLimit? { get }
    /// Seconds to wait before the next request to it, from the platform's rate-limit headers on an answer (Discord's
    /// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`). Default: none.
    func pacingDelay(_ response: DeliveryResponse) -> Double?
}

extension Destination {
    public func disables(_ response: DeliveryResponse) -> Bool { false }
    public var timeout: Double { 15 }
    public var redactedURL: String { "<redacted>" }
    public var secrets: [Secret] { [] }
    public var fingerprint: String {
        SHA256.hex(Array((secrets.map(\.exposed) + [kind.rawValue, name]).joined(separator: "\n").utf8))
    }
}
