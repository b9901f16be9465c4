import Foundation
import ProbeCore

/// A generic JSON webhook, signed the Standard Webhooks way when a secret is set (docs/chat-platforms.md,
/// "Generic webhook"):
/// `webhook-id` is the message's stable id (the receiver's idempotency key, the same on every retry),
/// `webhook-timestamp` is per attempt, and the signature covers exactly the bytes sent. The fields are for programs;
/// `data.text` is the message as the `webhook` template words it, for receivers that forward it to people.
public struct WebhookDestination: Platform {
    public static let kind = DestinationKind.webhook
    public static let escaping = TextEscaping.plain
    /// The receiver's pace is unknown: none.
    public static let pace: RateLimit? = nil
    public static let environmentVariables = ["CLEARML_PROBE_ALERT_WEBHOOK_URL", "CLEARML_PROBE_ALERT_WEBHOOK_SECRET"]

    public let name: String
    public let url: Secret
    public let secret: Secret?
    public let timeout: Double
    public let template: MessageTemplate
    let signer: StandardWebhooks?

    /// Keeps payloads small (docs/chat-platforms.md: receivers are advised to accept 20 KB at least).
    public enum Limits {
        public static let lines = 50
        public static let text = 2000
        /// The rendered message in `data.text`.
        public static let message = 4000
    }

    public init(
        name: String, url: Secret, secret: Secret?, timeout: Double = 15, template: MessageTemplate = .builtIn(.webhook)
    ) throws {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.template = template
        self.signer = try secret.map { try StandardWebhooks(secret: $0) }
    }

    /// `kind: webhook` with `url` (required), `secret` (`whsec_…`, optional) and `timeout`.
    public static func parse(_ options: ConfigMap, name: String, template: MessageTemplate) throws -> WebhookDestination
    {
        guard let url = try options.url("url") else {
            throw options.error(at: nil, "\(options.path): 'url' is required for a webhook destination")
        }
        let secret = try options.secret("secret")
        let timeout = try options.duration("timeout", default: 15, minimum: 1)
        do {
            return try WebhookDestination(
                name: name, url: Secret(url.absoluteString), secret: secret, timeout: timeout, template: template)
        } catch let error as StandardWebhooks.InvalidSecret {
            throw options.error(key: "secret", error.description)
        }
    }

    /// `CLEARML_PROBE_ALERT_WEBHOOK_URL` and, to sign, `CLEARML_PROBE_ALERT_WEBHOOK_SECRET`.
    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> WebhookDestination?
    {
        let reader = EnvironmentReader(substitution: substitution)
        let (urlVariable, secretVariable) = (environmentVariables[0], environmentVariables[1])
        guard let value = try reader.value(urlVariable) else { return nil }
        do { _ = try DestinationURL.parse(value, what: "webhook url") } catch {
            throw DestinationConfigError("\(urlVariable): \(error.description)")
        }
        let secret = try reader.value(secretVariable).map(Secret.init)
        do {
            return try WebhookDestination(name: kind.rawValue, url: Secret(value), secret: secret, template: template)
        } catch {
            throw DestinationConfigError(
                "\(secretVariable): \((error as? StandardWebhooks.InvalidSecret)?.description ?? "not a usable signing secret")"
            )
        }
    }

    public var redactedURL: String { Redact.url(url.exposed) }
    public var secrets: [Secret] { [url] + (secret.map { [$0] } ?? []) }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        let body = Self.body(message, template: template)
        var headers = ["Content-Type": "application/json", "webhook-id": message.messageID]
        let timestamp = Int(now.timeIntervalSince1970)
        headers["webhook-timestamp"] = String(timestamp)
        if let signer {
            headers["webhook-signature"] = signer.signature(id: message.messageID, timestamp: timestamp, body: body)
        }
        return OutgoingRequest(url: url.exposed, headers: headers, body: body)
    }

    // MARK: - Payload

    /// `{"type": "incident.<event>", "timestamp", "data": {…}}`; the same message always gives the same bytes.
    public static func body(_ message: AlertMessage, template: MessageTemplate = .builtIn(.webhook)) -> Data {
        func lines(_ items: [AlertMessage.Line]) -> [[String: Any]] {
            items.prefix(Limits.lines).map {
                [
                    "key": $0.key, "status": $0.status.rawValue,
                    "summary": Truncation.characters($0.summary, Limits.text),
                ]
            }
        }
        func optional(_ value: String?) -> Any {
            value.map { Truncation.characters($0, Limits.text) as Any } ?? NSNull()
        }
        let data: [String: Any] = [
            "message_id": message.messageID,
            "incident_id": message.incidentID,
            "event": message.event.rawValue,
            "severity": message.severity.rawValue,
            "service": message.service.rawValue,
            "layer": message.service.layer.rawValue,
            "title": Truncation.characters(message.title, Limits.text),
            "summary": Truncation.characters(message.summary, Limits.text),
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
            "text": text(message, template: template),
        ]
        let payload: [String: Any] = [
            "type": "incident.\(message.event.rawValue)",
            "timestamp": MessageText.timestamp(message.createdAt),
            "data": data,
        ]
        return (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// The rendered message: its title line, then the body lines that fit `Limits.message` characters.
    static func text(_ message: AlertMessage, template: MessageTemplate) -> String {
        let rendered = template.render(message)
        let title = Truncation.characters(rendered.title, Limits.text)
        let room = max(1, Limits.message - title.count - 1)
        let body = Truncation.lines(rendered.lines, limit: room, size: { $0.count }).joined(separator: "\n")
        return body.isEmpty ? title : title + "\n" + body
    }

    // MARK: - Answers

    /// The shared classes first (no answer, 5xx, 408, redirects); then, as Standard Webhooks says: 2xx success,
    /// 410 disables, 429 waits `Retry-After`, any other 4xx is permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "webhook") { return common }
        let status = response.status ?? 0
        let body = Evidence.excerpt(response.body, limit: 120)
        let detail = body.isEmpty ? "webhook: HTTP \(status)" : "webhook: HTTP \(status) \(body)"
        switch status {
        case 200..<300: return .delivered
        case 410: return .permanent(reason: "\(detail): the receiver says this endpoint is gone; destination disabled")
        case 429: return .retry(after: response.retryAfter, reason: detail)
        default: return .permanent(reason: detail)
        }
    }

    public func disables(_ response: DeliveryResponse) -> Bool { response.status == 410 }
}
