import Foundation
import ProbeCore

/// Mattermost through an incoming webhook: a Markdown heading in `text` and a Slack-compatible attachment with a
/// colour bar and fields; at most 16,383 characters per post (longer posts would be split: we cut instead).
/// Mentions in check output are broken by the template escaping, as Mattermost has no allowed_mentions.
public struct MattermostConfig: Sendable, Equatable {
    public var name: String
    /// `https://host/hooks/{key}`: the key is the credential.
    public var url: Secret
    /// Optional overrides (need the server's "Enable integrations to override usernames/channels").
    public var channel: String?
    public var username: String?

    public static let environmentVariable = "CLEARML_PROBE_ALERT_MATTERMOST_URL"

    public init(name: String = "mattermost", url: String, channel: String? = nil, username: String? = nil) throws(DestinationConfigError) {
        self.name = name
        self.url = Secret(url.trimmingCharacters(in: .whitespacesAndNewlines))
        self.channel = channel
        self.username = username
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        _ = try DestinationURL.parse(url.exposed, what: "mattermost '\(name)' url")
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError) -> MattermostConfig? {
        guard let url = try EnvironmentReader(substitution: substitution).value(environmentVariable) else { return nil }
        do { return try MattermostConfig(url: url) } catch { throw DestinationConfigError("\(environmentVariable): \(error.description)") }
    }

    public static func parse(_ map: ConfigMap, name: String) throws -> MattermostConfig {
        guard let url = try map.nonEmptyString("url") else {
            throw map.error(at: nil, "\(map.path): 'url' is required (the Mattermost incoming webhook URL)")
        }
        let channel = try map.nonEmptyString("channel")
        let username = try map.nonEmptyString("username")
        let config: MattermostConfig
        do { config = try MattermostConfig(name: name, url: url, channel: channel, username: username) } catch {
            throw map.error(key: "url", error.description)
        }
        try map.finish()
        return config
    }
}

public struct MattermostDestination: Destination {
    public let config: MattermostConfig
    public let template: MessageTemplate

    /// Characters per post (server ≥ 5.0), counted over the text and the attachment's text together.
    public static let maxPost = 16_383

    public init(config: MattermostConfig, template: MessageTemplate = .builtIn(.mattermost)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    public var kind: DestinationKind { .mattermost }
    /// scheme://host[:port] only: the rest of the address is (or may carry) the credential.
    public var redactedURL: String { Redact.url(config.url.exposed) }
    public var secrets: [Secret] { [config.url] }

    /// A permanent answer that means the destination itself is gone (deleted webhook, revoked token).
    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status else { return false }
        return status == 404
    }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(url: config.url.exposed, body: Self.payload(message, text: template.render(message), config: config).data)
    }

    public static func payload(_ message: AlertMessage, text: RenderedText, config: MattermostConfig) -> PayloadJSON {
        let heading = "#### " + Truncation.runes(text.title, 1000)
        let fields: [(String, String)] = [
            ("Severity", message.severity.label),
            ("Service", "\(message.service.displayName) (\(message.service.layer.rawValue))"),
            ("Instance", Truncation.runes(message.instance, 200)),
            ("Incident", Truncation.runes(message.incidentID, 300)),
        ]
        let fixed = heading.unicodeScalars.count + fields.reduce(0) { $0 + $1.0.unicodeScalars.count + $1.1.unicodeScalars.count }
        let room = maxPost - fixed
        let body = Truncation.lines(text.lines, limit: room).joined(separator: "\n")
        var attachment: [(String, PayloadJSON?)] = [
            ("fallback", .string(Truncation.runes(TextEscaping.markdown.plain(text.title), 300))),
            ("color", .string(color(message))),
            ("text", body.isEmpty ? nil : .string(Truncation.runes(body, room))),
            ("fields", .array(fields.map { ["short": true, "title": .string($0.0), "value": .string($0.1)] })),
        ]
        if let url = message.statusURL, !url.isEmpty {
            attachment.append(("title", "Status page"))
            attachment.append(("title_link", .string(url)))
        }
        return PayloadJSON.compact([
            ("channel", config.channel.map { .string($0) }),
            ("username", config.username.map { .string($0) }),
            ("text", .string(heading)),
            ("attachments", [PayloadJSON.compact(attachment)]),
        ])
    }

    static func color(_ message: AlertMessage) -> String {
        switch message.event {
        case .resolved: return "#2EB886"
        case .test: return "#3498DB"
        case .flapping: return "#F1C40F"
        case .firing, .reminder:
            switch message.severity {
            case .critical: return "#D00000"
            case .warning: return "#E67E22"
            case .unknown, .ok: return "#95A5A6"
            }
        }
    }

    /// 200 `ok` success; 429 (server rate limiting on) waits `Retry-After` or `X-Ratelimit-Reset`; 400 (cannot
    /// parse, no text), 401/403/404 (invalid or disabled hook, unknown or archived channel) and 413 are permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "mattermost") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        if status == 429 {
            let reset = response.header("X-Ratelimit-Reset").flatMap(Double.init)
            return .retry(after: response.retryAfter ?? reset, reason: "mattermost: HTTP 429 rate limited")
        }
        let json = response.json
        let text = json?["message"]?.string ?? json?["detailed_error"]?.string ?? response.bodyExcerpt
        return .permanent(reason: "mattermost: HTTP \(status) \(Truncation.runes(text, 200))".trimmingCharacters(in: .whitespaces))
    }
}
