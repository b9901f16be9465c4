import Foundation
import ProbeCore

/// Discord through a channel webhook: one embed with a colour, mentions never parsed (`allowed_mentions.parse` empty,
/// so no check output can ping `@everyone` or a role). Sent with `wait=true`, so a message Discord fails to save is
/// an error rather than a silent 204 (docs/chat-platforms.md, "Discord").
public struct DiscordConfig: Sendable, Equatable {
    public var name: String
    /// `https://discord.com/api/webhooks/{id}/{token}`: the token in the path is the credential.
    public var url: Secret
    /// The name shown as the sender.
    public var username: String

    public static let environmentVariable = "CLEARML_PROBE_ALERT_DISCORD_URL"

    public init(name: String = "discord", url: String, username: String = "clearml-probe")
        throws(DestinationConfigError)
    {
        self.name = name
        self.url = Secret(url.trimmingCharacters(in: .whitespacesAndNewlines))
        self.username = username
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        _ = try DestinationURL.parse(url.exposed, what: "discord '\(name)' url")
        guard (1...80).contains(username.count) else {
            throw DestinationConfigError("discord '\(name)': username must be 1 to 80 characters")
        }
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> DiscordConfig?
    {
        try EnvironmentReader.config(environmentVariable, substitution) { url throws(DestinationConfigError) in
            try DiscordConfig(url: url)
        }
    }

    /// Reads `url` and `username` from a `destinations:` entry (the caller has read `name` and `kind`).
    public static func parse(_ map: ConfigMap, name: String) throws -> DiscordConfig {
        let url = try map.required("url", "the Discord webhook URL")
        let username = try map.nonEmptyString("username") ?? "clearml-probe"
        let config: DiscordConfig
        do { config = try DiscordConfig(name: name, url: url, username: username) } catch {
            throw map.error(key: "url", error.description)
        }
        try map.finish()
        return config
    }
}

public struct DiscordDestination: WebhookURLDestination, Platform {
    public static let kind = DestinationKind.discord
    public static let escaping = TextEscaping.markdown
    /// Five messages per two seconds per webhook, and 30 a minute per channel.
    public static let pace: RateLimit? = RateLimit([.messages(5, per: 2), .messages(30, per: 60)])
    public static let environmentVariables = [DiscordConfig.environmentVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> DiscordDestination?
    {
        try DiscordConfig.fromEnvironment(substitution).map { DiscordDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> DiscordDestination {
        DiscordDestination(config: try DiscordConfig.parse(map, name: name), template: template)
    }

    public let config: DiscordConfig
    public let template: MessageTemplate

    // Embed limits (docs/chat-platforms.md, "Discord"), counted in characters.
    public static let maxTitle = 256
    public static let maxDescription = 4096
    public static let maxFieldValue = 1024
    public static let maxFooter = 2048
    public static let maxEmbedTotal = 6000

    public init(config: DiscordConfig, template: MessageTemplate = .builtIn(.discord)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    public var webhookURL: Secret { config.url }

    /// A permanent answer that means the destination itself is gone (deleted webhook, revoked token).
    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status else { return false }
        return status == 404 || status == 401
    }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: Self.endpoint(config.url.exposed),
            body: Self.payload(message, text: template.render(message), username: config.username).data)
    }

    /// The webhook URL with `wait=true` (kept when already there, other parameters such as `thread_id` kept).
    static func endpoint(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        items.removeAll { $0.name == "wait" }
        items.append(URLQueryItem(name: "wait", value: "true"))
        components.queryItems = items
        return components.string ?? url
    }

    public static func payload(_ message: AlertMessage, text: RenderedText, username: String) -> PayloadJSON {
        let title = Truncation.runes(TextEscaping.markdown.plain(text.title), maxTitle)
        let fields: [(String, String)] = [
            ("Severity", message.severity.label),
            ("Service", message.serviceAndLayer),
            ("Instance", Truncation.runes(message.instance, maxFieldValue)),
        ]
        let footer = Truncation.runes("incident \(message.incidentID)", maxFooter)
        let fixed = title.count + footer.count + fields.reduce(0) { $0 + $1.0.count + $1.1.count }
        let room = min(maxDescription, maxEmbedTotal - fixed)
        let description = Truncation.lines(text.lines, limit: room, size: { $0.count }).joined(separator: "\n")
        var embed: [(String, PayloadJSON?)] = [
            ("title", .string(title)),
            ("description", description.isEmpty ? nil : .string(Truncation.runes(description, room))),
            ("color", .int(color(message))),
            ("timestamp", .string(MessageText.timestamp(message.resolvedAt ?? message.startedAt))),
            ("fields", .array(fields.map { ["name": .string($0.0), "value": .string($0.1), "inline": true] })),
            ("footer", ["text": .string(footer)]),
        ]
        if let url = message.statusURL, !url.isEmpty { embed.insert(("url", .string(url)), at: 1) }
        return [
            "username": .string(username),
            "allowed_mentions": ["parse": []],
            "embeds": [PayloadJSON.compact(embed)],
        ]
    }

    /// Decimal RGB: red firing, orange warning, grey unknown, green resolved (Gatus' and Alertmanager's colours).
    static func color(_ message: AlertMessage) -> Int {
        switch message.event {
        case .resolved: return 0x2ECC71
        case .test: return 0x3498DB
        case .flapping: return 0xF1C40F
        case .firing, .reminder:
            switch message.severity {
            case .critical: return 0xE74C3C
            case .warning: return 0xE67E22
            case .unknown, .ok: return 0x95A5A6
            }
        }
    }

    /// Discord's own pace (docs/chat-platforms.md, "Discord": "do not hard-code; read X-RateLimit-*"): when the bucket of this
    /// webhook is empty (`X-RateLimit-Remaining: 0`), wait `X-RateLimit-Reset-After` seconds before the next request.
    public func pacingDelay(_ response: DeliveryResponse) -> Double? {
        guard let remaining = response.header("X-RateLimit-Remaining").flatMap(Double.init), remaining <= 0,
            let after = response.header("X-RateLimit-Reset-After").flatMap(Double.init), after > 0
        else { return nil }
        return min(after, 3600)
    }

    /// 200/204 success; 429 waits the body's `retry_after` (float seconds) or `Retry-After`, whichever is longer;
    /// 400 (50035 invalid form body), 401 (50027), 403, 404 (10015 unknown webhook), 413 are permanent; 5xx retry.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "discord") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        let json = response.json
        if status == 429 {
            let hints = [RetryAfter.capped(json?["retry_after"]?.double), response.retryAfter].compactMap { $0 }
            let global = json?["global"]?.bool == true ? " (global)" : ""
            return .retry(after: hints.max(), reason: "discord: HTTP 429 rate limited\(global)")
        }
        let code = json?["code"]?.int
        let text = json?["message"]?.string ?? response.bodyExcerpt
        var reason =
            "discord: HTTP \(status)" + (code.map { " code \($0)" } ?? "")
            + (text.isEmpty ? "" : " \(Truncation.runes(text, 200))")
        if code == 10015 || status == 404 { reason += " (the webhook was deleted; replace the URL)" }
        if code == 50027 || status == 401 { reason += " (invalid webhook token; replace the URL)" }
        return .permanent(reason: reason)
    }
}
