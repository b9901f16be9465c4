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

    public init(name: String = "mattermost", url: String, channel: String? = nil, username: String? = nil)
        throws(DestinationConfigError)
    {
        self.name = name
        self.url = Secret(url.trimmingCharacters(in: .whitespacesAndNewlines))
        self.channel = channel
        self.username = username
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        _ = try DestinationURL.parse(url.exposed, what: "mattermost '\(name)' url")
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> MattermostConfig?
    {
        try EnvironmentReader.config(environmentVariable, substitution) { url throws(DestinationConfigError) in
            try MattermostConfig(url: url)
        }
    }

    public static func parse(_ map: ConfigMap, name: String) throws -> MattermostConfig {
        let url = try map.required("url", "the Mattermost incoming webhook URL")
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

public struct MattermostDestination: WebhookURLDestination, Platform {
    public static let kind = DestinationKind.mattermost
    public static let escaping = TextEscaping.markdown
    /// The server's default API limit: ten a second.
    public static let pace: RateLimit? = RateLimit([.messages(10, per: 1)])
    public static let environmentVariables = [MattermostConfig.environmentVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> MattermostDestination?
    {
        try MattermostConfig.fromEnvironment(substitution).map { MattermostDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> MattermostDestination
    {
        MattermostDestination(config: try MattermostConfig.parse(map, name: name), template: template)
    }

    public let config: MattermostConfig
    public let template: MessageTemplate

    /// Characters per post (server ≥ 5.0), counted over the text and the attachment's text together.
    public static let maxPost = 16_383

    public init(config: MattermostConfig, template: MessageTemplate = .builtIn(.mattermost)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    public var webhookURL: Secret { config.url }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: config.url.exposed, body: Self.payload(message, text: template.render(message), config: config).data)
    }

    public static func payload(_ message: AlertMessage, text: RenderedText, config: MattermostConfig) -> PayloadJSON {
        let heading = "#### " + Truncation.runes(text.title, 1000)
        let fields: [(String, String)] = [
            ("Severity", message.severity.label),
            ("Service", message.serviceAndLayer),
            ("Instance", Truncation.runes(message.instance, 200)),
            ("Incident", Truncation.runes(message.incidentID, 300)),
        ]
        let fixed =
            heading.unicodeScalars.count
            + fields.reduce(0) { $0 + $1.0.unicodeScalars.count + $1.1.unicodeScalars.count }
        let room = maxPost - fixed
        let body = Truncation.lines(text.lines, limit: room).joined(separator: "\n")
        var attachment: [(String, PayloadJSON?)] = [
            ("fallback", .string(Truncation.runes(TextEscaping.markdown.plain(text.title), 300))),
            ("color", .string(message.cardColor)),
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

    /// 200 `ok` success; 429 (server rate limiting on) waits `Retry-After` or `X-Ratelimit-Reset`; 400 (cannot
    /// parse, no text), 401/403/404 (invalid or disabled hook, unknown or archived channel) and 413 are permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "mattermost") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        if status == 429 {
            let reset = response.header("X-Ratelimit-Reset").flatMap(Double.init)
            return .retry(
                after: response.retryAfter ?? RetryAfter.capped(reset), reason: "mattermost: HTTP 429 rate limited")
        }
        let json = response.json
        let text = json?["message"]?.string ?? json?["detailed_error"]?.string ?? response.bodyExcerpt
        return .permanent(
            reason: "mattermost: HTTP \(status) \(Truncation.runes(text, 200))".trimmingCharacters(in: .whitespaces))
    }
}
