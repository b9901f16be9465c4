import Foundation
import ProbeCore

/// PagerDuty Events API v2: `trigger` while an incident fires and `resolve` when it clears, with a deterministic
/// `dedup_key` made from the incident id, so retries and re-sends land on the same PagerDuty alert
/// (docs/chat-platforms.md, "PagerDuty"). A `notify test` sends an `info` trigger with its own dedup key (low urgency under
/// PagerDuty's default severity-based urgency); resolve it in PagerDuty.
public struct PagerDutyConfig: Sendable, Equatable {
    public var name: String
    /// The integration (routing) key: in the body, never printed.
    public var routingKey: Secret
    public var url: String

    public static let keyVariable = "CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY"
    public static let urlVariable = "CLEARML_PROBE_ALERT_PAGERDUTY_URL"
    public static let defaultURL = "https://events.pagerduty.com/v2/enqueue"

    public init(name: String = "pagerduty", routingKey: String, url: String? = nil) throws(DestinationConfigError) {
        self.name = name
        self.routingKey = Secret(routingKey.trimmingCharacters(in: .whitespacesAndNewlines))
        self.url = (url?.isEmpty == false ? url! : Self.defaultURL).trimmingCharacters(in: .whitespaces)
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        let key = routingKey.exposed
        guard (20...64).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw DestinationConfigError(
                "pagerduty '\(name)': the routing key must be the 32-character integration key of an Events API v2 integration"
            )
        }
        _ = try DestinationURL.parse(url, what: "pagerduty '\(name)' url")
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> PagerDutyConfig?
    {
        let reader = EnvironmentReader(substitution: substitution)
        guard let key = try reader.value(keyVariable) else { return nil }
        do { return try PagerDutyConfig(routingKey: key, url: try reader.value(urlVariable)) } catch {
            throw DestinationConfigError("\(keyVariable): \(error.description)")
        }
    }

    /// Reads `routing_key` and `url` from a `destinations:` entry.
    public static func parse(_ map: ConfigMap, name: String) throws -> PagerDutyConfig {
        let key = try map.required("routing_key", "use ${CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY} or a *_FILE secret")
        let url = try map.nonEmptyString("url")
        let config: PagerDutyConfig
        do { config = try PagerDutyConfig(name: name, routingKey: key, url: url) } catch {
            throw map.error(key: error.description.contains("url") ? "url" : "routing_key", error.description)
        }
        try map.finish()
        return config
    }
}

public struct PagerDutyDestination: Destination, Platform {
    public static let kind = DestinationKind.pagerduty
    public static let escaping = TextEscaping.plain
    /// About two events a second per routing key.
    public static let pace: RateLimit? = RateLimit([.messages(2, per: 1)])
    public static let environmentVariables = [PagerDutyConfig.keyVariable, PagerDutyConfig.urlVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> PagerDutyDestination?
    {
        try PagerDutyConfig.fromEnvironment(substitution).map { PagerDutyDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> PagerDutyDestination {
        PagerDutyDestination(config: try PagerDutyConfig.parse(map, name: name), template: template)
    }

    public let config: PagerDutyConfig
    public let template: MessageTemplate

    public static let maxSummary = 1024
    public static let maxDedupKey = 255
    /// Bounded details, far below the 512 KB payload limit.
    public static let maxDetails = 8_000

    public init(config: PagerDutyConfig, template: MessageTemplate = .builtIn(.pagerduty)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    /// scheme://host[:port] only: the rest of the address is (or may carry) the credential.
    public var redactedURL: String { Redact.url(config.url) }
    public var secrets: [Secret] { [config.routingKey] }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: config.url,
            body: Self.payload(message, text: template.render(message), routingKey: config.routingKey).data)
    }

    /// `clearml-probe/<incident id>` (a test: `clearml-probe/test/<message id>`); over 255 characters, a prefix and a
    /// 64-bit FNV-1a hash of the whole, so it stays deterministic.
    public static func dedupKey(for message: AlertMessage) -> String {
        let key =
            message.event == .test ? "clearml-probe/test/\(message.messageID)" : "clearml-probe/\(message.incidentID)"
        if key.utf8.count <= maxDedupKey { return key }
        let hex = String(fnv1a(key), radix: 16)
        let hash = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
        return Truncation.bytes(key, maxDedupKey - 17).replacingOccurrences(of: Truncation.ellipsis, with: "") + "#"
            + hash
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// critical → critical, unknown (the probe is blind) → error, warning → warning; tests are info.
    static func severity(_ message: AlertMessage) -> String {
        if message.event == .test { return "info" }
        switch message.severity {
        case .critical: return "critical"
        case .unknown: return "error"
        case .warning: return "warning"
        case .ok: return "info"
        }
    }

    public static func payload(_ message: AlertMessage, text: RenderedText, routingKey: Secret) -> PayloadJSON {
        let dedup = dedupKey(for: message)
        if message.event == .resolved {
            return ["routing_key": .string(routingKey.exposed), "event_action": "resolve", "dedup_key": .string(dedup)]
        }
        func lines(_ lines: [AlertMessage.Line]) -> PayloadJSON {
            .array(
                lines.prefix(50).map { .string(Truncation.runes("\($0.status.label) \($0.key): \($0.summary)", 500)) })
        }
        let details = PayloadJSON.compact([
            ("summary", .string(Truncation.runes(message.summary, 1000))),
            ("details", text.lines.isEmpty ? nil : .string(Truncation.runes(text.body, maxDetails))),
            ("hint", message.hint.map { .string(Truncation.runes($0, 1000)) }),
            ("evidence", message.evidence.map { .string(Truncation.runes($0, 2000)) }),
            ("failing_checks", message.causes.isEmpty ? nil : lines(message.causes)),
            ("symptoms", message.symptoms.isEmpty ? nil : lines(message.symptoms)),
            ("unconfirmed", message.unconfirmed ? true : nil),
            ("incident", .string(message.incidentID)),
            ("event", .string(message.event.rawValue)),
        ])
        let payload = PayloadJSON.compact([
            ("summary", .string(Truncation.runes(TextEscaping.plain.plain(text.title), maxSummary))),
            ("source", .string(message.instance)),
            ("severity", .string(severity(message))),
            ("timestamp", .string(MessageText.timestamp(message.startedAt))),
            ("component", .string(message.service.rawValue)),
            ("group", .string(message.service.layer.rawValue)),
            (
                "class",
                .string(message.causes.first.map { String($0.key.split(separator: "/").first ?? "") } ?? "incident")
            ),
            ("custom_details", details),
        ])
        var members: [(String, PayloadJSON?)] = [
            ("routing_key", .string(routingKey.exposed)),
            ("event_action", "trigger"),
            ("dedup_key", .string(dedup)),
            ("payload", payload),
            ("client", "clearml-probe"),
        ]
        if let url = message.statusURL, !url.isEmpty {
            members.append(("client_url", .string(url)))
            members.append(("links", [["href": .string(url), "text": "Status page"]]))
        }
        return PayloadJSON.compact(members)
    }

    /// 202 (any 2xx) success; 400 invalid event is permanent; 429 waits (`Retry-After`, else 30 s as PagerDuty
    /// advises); 5xx and network errors retry; other 4xx are permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "pagerduty") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        if status == 429 { return .retry(after: response.retryAfter ?? 30, reason: "pagerduty: HTTP 429 rate limited") }
        let json = response.json
        let message = json?["message"]?.string ?? response.bodyExcerpt
        let errors = json?["errors"]?.array?.compactMap(\.string).joined(separator: "; ") ?? ""
        let text = [message, errors].filter { !$0.isEmpty }.joined(separator: ": ")
        return .permanent(
            reason: "pagerduty: HTTP \(status) \(Truncation.runes(text, 300))".trimmingCharacters(in: .whitespaces))
    }
}
