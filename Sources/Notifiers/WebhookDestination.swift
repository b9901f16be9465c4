import Foundation
import ProbeCore

/// A generic JSON webhook, signed the Standard Webhooks way when a secret is set (facts/webhooks.md §10):
/// `webhook-id` is the message's stable id (the receiver's idempotency key, the same on every retry),
/// `webhook-timestamp` is per attempt, and the signature covers exactly the bytes sent.
public struct WebhookDestination: Destination {
    public let name: String
    public var kind: DestinationKind { .webhook }
    public let url: Secret
    public let secret: Secret?
    public let timeout: Double
    let signer: StandardWebhooks?

    /// Keeps payloads small (facts: under 20 KB suggested).
    public enum Limits {
        public static let lines = 50
        public static let text = 2000
    }

    public init(name: String, url: Secret, secret: Secret?, timeout: Double = 15) throws {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.signer = try secret.map { try StandardWebhooks(secret: $0) }
    }

    /// `kind: webhook` with `url` (required), `secret` (`whsec_…`, optional) and `timeout`.
    public static func parse(name: String, _ options: ConfigMap) throws -> WebhookDestination {
        guard let url = try options.url("url") else { throw options.error(at: nil, "\(options.path): 'url' is required for a webhook destination") }
        let secret = try options.secret("secret")
        let timeout = try options.duration("timeout", default: 15, minimum: 1)
        do {
            return try WebhookDestination(name: name, url: Secret(url.absoluteString), secret: secret, timeout: timeout)
        } catch let error as StandardWebhooks.InvalidSecret {
            throw options.error(key: "secret", error.description)
        }
    }

    public var redactedURL: String { Redact.url(url.exposed) }
    public var secrets: [Secret] { [url] + (secret.map { [$0] } ?? []) }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        let body = Self.body(message)
        var headers = ["Content-Type": "application/json", "webhook-id": message.messageID]
        let timestamp = Int(now.timeIntervalSince1970)
        headers["webhook-timestamp"] = String(timestamp)
        if let signer { headers["webhook-signature"] = signer.signature(id: message.messageID, timestamp: timestamp, body: body) }
        return OutgoingRequest(url: url.exposed, headers: headers, body: body)
    }

    // MARK: - Payload

    /// `{"type": "incident.<event>", "timestamp", "data": {…}}`; the same message always gives the same bytes.
    public static func body(_ message: AlertMessage) -> Data {
        func lines(_ items: [AlertMessage.Line]) -> [[String: Any]] {
            items.prefix(Limits.lines).map { ["key": $0.key, "status": $0.status.rawValue, "summary": MessageText.truncate($0.summary, Limits.text)] }
        }
        func optional(_ value: String?) -> Any { value.map { MessageText.truncate($0, Limits.text) as Any } ?? NSNull() }
        let data: [String: Any] = [
            "message_id": message.messageID,
            "incident_id": message.incidentID,
            "event": message.event.rawValue,
            "severity": message.severity.rawValue,
            "service": message.service.rawValue,
            "layer": message.service.layer.rawValue,
            "title": MessageText.truncate(message.title, Limits.text),
            "summary": MessageText.truncate(message.summary, Limits.text),
            "hint": optional(message.hint),
            "evidence": optional(message.evidence),
            "unconfirmed": message.unconfirmed,
            "causes": lines(message.causes),
            "causes_omitted": max(0, message.causes.count - Limits.lines),
            "symptoms": lines(message.symptoms),
            "symptoms_omitted": max(0, message.symptoms.count - Limits.lines),
            "started_at": MessageText.timestamp(message.startedAt),
            "resolved_at": message.resolvedAt.map { MessageText.timestamp($0) as Any } ?? NSNull(),
            "created_at": MessageText.timestamp(message.createdAt),
            "status_url": message.statusURL.map { $0 as Any } ?? NSNull(),
            "instance": message.instance,
        ]
        let payload: [String: Any] = [
            "type": "incident.\(message.event.rawValue)",
            "timestamp": MessageText.timestamp(message.createdAt),
            "data": data,
        ]
        return (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    // MARK: - Answers

    /// Standard Webhooks: 2xx success; 410 disables; 429, 502, 504 throttle; other 4xx permanent; 5xx retry; a
    /// redirect is not followed.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        guard let status = response.status else {
            return .retry(after: nil, reason: response.transportError ?? "no answer")
        }
        let body = Evidence.excerpt(response.body, limit: 120)
        let detail = body.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(body)"
        switch status {
        case 200..<300: return .delivered
        case 410: return .permanent(reason: "\(detail): the receiver says this endpoint is gone; destination disabled")
        case 429, 502, 504: return .retry(after: RetryAfter.seconds(response.headers, now: Date()), reason: detail)
        case 300..<400: return .permanent(reason: "HTTP \(status): redirects are not followed; configure the final URL")
        case 500..<600: return .retry(after: RetryAfter.seconds(response.headers, now: Date()), reason: detail)
        default: return .permanent(reason: detail)
        }
    }

    public func disables(_ response: DeliveryResponse) -> Bool { response.status == 410 }
}
