import Foundation
import ProbeCore

/// Microsoft Teams through a Workflows (Power Automate) webhook: an Adaptive Card 1.4 in the
/// `{"type":"message","attachments":[…]}` envelope that the "Send webhook alerts to a channel" template posts.
/// Retired Office 365 connector URLs are refused when the config is read (docs/chat-platforms.md, "Teams").
public struct TeamsConfig: Sendable, Equatable {
    public var name: String
    /// The workflow URL; its `sig` query parameter is the credential.
    public var url: Secret

    public static let environmentVariable = "CLEARML_PROBE_ALERT_TEAMS_URL"

    public init(name: String = "teams", url: String) throws(DestinationConfigError) {
        self.name = name
        self.url = Secret(url.trimmingCharacters(in: .whitespacesAndNewlines))
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        let components = try DestinationURL.parse(url.exposed, what: "teams '\(name)' url")
        let host = components.host?.lowercased() ?? ""
        if host.hasSuffix(".webhook.office.com") || host == "webhook.office.com" || host == "outlook.office.com"
            || host == "outlook.office365.com"
        {
            throw DestinationConfigError(
                "teams '\(name)': \(Redact.url(url.exposed)) is an Office 365 connector webhook, which Microsoft retired; "
                    + "create a Teams Workflows webhook (template \"Send webhook alerts to a channel\") and use its URL"
            )
        }
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> TeamsConfig?
    {
        try EnvironmentReader.config(environmentVariable, substitution) { url throws(DestinationConfigError) in
            try TeamsConfig(url: url)
        }
    }

    /// Reads `url` from a `destinations:` entry (the caller has read `name` and `kind`).
    public static func parse(_ map: ConfigMap, name: String) throws -> TeamsConfig {
        let url = try map.required("url", "the Teams Workflows webhook URL")
        let config: TeamsConfig
        do { config = try TeamsConfig(name: name, url: url) } catch { throw map.error(key: "url", error.description) }
        try map.finish()
        return config
    }
}

public struct TeamsDestination: WebhookURLDestination, Platform {
    public static let kind = DestinationKind.teams
    public static let escaping = TextEscaping.plain
    /// About one message a second per workflow.
    public static let pace: RateLimit? = .onePerSecond
    public static let environmentVariables = [TeamsConfig.environmentVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> TeamsDestination?
    {
        try TeamsConfig.fromEnvironment(substitution).map { TeamsDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> TeamsDestination {
        TeamsDestination(config: try TeamsConfig.parse(map, name: name), template: template)
    }

    public let config: TeamsConfig
    public let template: MessageTemplate

    /// Budget for the whole request body: Teams accepts about 28 KB, measured on legacy connectors as low as 21 KB.
    public static let maxBodyBytes = 24_000
    /// Per TextBlock, so one long line cannot take the whole budget.
    public static let maxBlockRunes = 2_000
    public static let maxBlocks = 40

    public init(config: TeamsConfig, template: MessageTemplate = .builtIn(.teams)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    public var webhookURL: Secret { config.url }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(url: config.url.exposed, body: Self.payload(message, text: template.render(message)).data)
    }

    /// The payload; pure. Body lines are dropped from the end (with a note) until the body fits the budget.
    public static func payload(_ message: AlertMessage, text: RenderedText) -> PayloadJSON {
        let title = Truncation.runes(text.title, maxBlockRunes)
        let lines = text.lines.map { Truncation.runes($0, maxBlockRunes) }
        return PayloadJSON.keepingLines(min(lines.count, maxBlocks), maxBytes: maxBodyBytes) { keep in
            let left = lines.count - keep
            return build(
                message, title: title, lines: Array(lines.prefix(keep)) + (left > 0 ? [Truncation.moreLines(left)] : [])
            )
        }
    }

    static func build(_ message: AlertMessage, title: String, lines: [String]) -> PayloadJSON {
        var body: [PayloadJSON] = [
            [
                "type": "Container", "style": .string(style(message)),
                "items": [
                    ["type": "TextBlock", "text": .string(title), "weight": "Bolder", "size": "Medium", "wrap": true]
                ],
            ]
        ]
        var gap = false
        for line in lines {
            if line.isEmpty {
                gap = true
                continue
            }
            body.append(
                .object([
                    ("type", "TextBlock"), ("text", .string(line)), ("wrap", true),
                    ("spacing", gap ? "Medium" : "None"),
                ]))
            gap = false
        }
        body.append([
            "type": "FactSet",
            "facts": .array(facts(message).map { ["title": .string($0.0), "value": .string($0.1)] }),
        ])
        var content: [(String, PayloadJSON)] = [
            ("$schema", "http://adaptivecards.io/schemas/adaptive-card.json"),
            ("type", "AdaptiveCard"),
            ("version", "1.4"),
            ("msteams", ["width": "Full"]),
            ("body", .array(body)),
        ]
        if let url = message.statusURL, !url.isEmpty {
            content.append(("actions", [["type": "Action.OpenUrl", "title": "Status page", "url": .string(url)]]))
        }
        return [
            "type": "message",
            "attachments": [
                [
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": .null,
                    "content": .object(content),
                ]
            ],
        ]
    }

    static func style(_ message: AlertMessage) -> String {
        switch message.event {
        case .resolved: return "good"
        case .test: return "accent"
        case .flapping: return "warning"
        case .firing, .reminder: return message.severity == .critical ? "attention" : "warning"
        }
    }

    static func facts(_ message: AlertMessage) -> [(String, String)] {
        var facts = [
            ("Severity", message.severity.label), ("Service", message.serviceAndLayer),
            ("Instance", message.instance), ("Started", MessageText.time(message.startedAt)),
        ]
        if let resolved = message.resolvedAt { facts.append(("Resolved", MessageText.time(resolved))) }
        facts.append(("Incident", message.incidentID))
        return facts
    }

    /// 200/202 are success (202 only means the flow started); 429 and 5xx retry; other 4xx are permanent
    /// (400 bad body, 401/403 bad signature or trigger auth, 404 flow deleted, 413 too large).
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "teams") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        if status == 429 { return .retry(after: response.retryAfter, reason: "teams: HTTP 429 throttled") }
        let hint: String
        switch status {
        case 401, 403: hint = " (the workflow URL's signature or trigger permissions are wrong)"
        case 404: hint = " (the workflow was deleted or turned off)"
        case 413: hint = " (message too large)"
        default: hint = ""
        }
        return .permanent(
            reason: "teams: HTTP \(status)\(hint) \(response.bodyExcerpt)".trimmingCharacters(in: .whitespaces))
    }
}
