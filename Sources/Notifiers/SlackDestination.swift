import Foundation
import ProbeCore

/// Slack incoming webhook (docs/chat-platforms.md, "Slack"): a top-level `text` for notifications, and Block Kit blocks inside
/// one legacy attachment for the coloured bar. The text comes from the `slack` template (mrkdwn, check output escaped
/// `& < >`): its title is the header and the notification, each paragraph of its body a section; the fields and the
/// context line stay here. The URL is the credential.
public struct SlackDestination: Platform {
    public static let kind = DestinationKind.slack
    public static let escaping = TextEscaping.slackMrkdwn
    /// About one message a second per webhook.
    public static let pace: RateLimit? = .onePerSecond
    public static let environmentVariables = ["CLEARML_PROBE_ALERT_SLACK_URL"]

    public let name: String
    public let url: Secret
    public let timeout: Double
    public let template: MessageTemplate

    /// Slack's limits (docs/chat-platforms.md, "Slack").
    public enum Limits {
        public static let header = 150
        public static let section = 3000
        public static let blocks = 50
        public static let fields = 10
        public static let field = 2000
        /// Slack cuts `text` at 40,000 and advises at most 4,000.
        public static let text = 4000
        /// Our own budgets, well inside Slack's, so a whole message stays small (an undocumented total of about 13k
        /// characters of block text applies to some senders).
        public static let summary = 1000
        public static let evidence = 1500
        public static let item = 300
        public static let bodyTotal = 12_000
    }

    public init(name: String, url: Secret, timeout: Double = 15, template: MessageTemplate = .builtIn(.slack)) {
        self.name = name
        self.url = url
        self.timeout = timeout
        self.template = template
    }

    /// `kind: slack` with `url` (required) and `timeout`.
    public static func parse(_ options: ConfigMap, name: String, template: MessageTemplate) throws -> SlackDestination {
        guard let url = try options.url("url") else {
            throw options.error(at: nil, "\(options.path): 'url' is required for a slack destination")
        }
        let timeout = try options.duration("timeout", default: 15, minimum: 1)
        return SlackDestination(name: name, url: Secret(url.absoluteString), timeout: timeout, template: template)
    }

    /// `CLEARML_PROBE_ALERT_SLACK_URL`: the webhook URL.
    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> SlackDestination?
    {
        try EnvironmentReader.config(environmentVariables[0], substitution) { value throws(DestinationConfigError) in
            _ = try DestinationURL.parse(value, what: "slack url")
            return SlackDestination(name: kind.rawValue, url: Secret(value), template: template)
        }
    }

    public var redactedURL: String { Redact.url(url.exposed) }
    public var secrets: [Secret] { [url] }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: url.exposed, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: Self.body(message, template: template))
    }

    // MARK: - Payload

    public static func body(_ message: AlertMessage, template: MessageTemplate = .builtIn(.slack)) -> Data {
        let text = template.render(budgeted(message))
        let title = text.title.isEmpty ? "\(MessageText.label(message.event)): \(escape(message.title))" : text.title
        let plain = TextEscaping.slackMrkdwn.plain(title)
        let payload: [String: Any] = [
            "text": Truncation.escaped(title, Limits.text),
            "attachments": [
                [
                    "color": colour(message), "fallback": Truncation.characters(plain, Limits.text),
                    "blocks": blocks(message, title: plain, body: text.lines),
                ]
            ],
        ]
        return (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// The message with its free text cut to Slack's budgets before rendering, and code fences in the evidence
    /// broken (the template puts the evidence in a code block).
    static func budgeted(_ message: AlertMessage) -> AlertMessage {
        var message = message
        message.summary = Truncation.characters(message.summary, Limits.summary)
        message.evidence = message.evidence.map {
            Truncation.characters($0, Limits.evidence).replacingOccurrences(of: "```", with: "\'\'\'")
        }
        message.hint = message.hint.map { Truncation.characters($0, Limits.summary) }
        func item(_ line: AlertMessage.Line) -> AlertMessage.Line {
            AlertMessage.Line(
                key: Truncation.characters(line.key, Limits.item), status: line.status,
                summary: Truncation.characters(line.summary, Limits.item))
        }
        message.causes = message.causes.map(item)
        message.symptoms = message.symptoms.map(item)
        return message
    }

    static func colour(_ message: AlertMessage) -> String {
        switch message.event {
        case .resolved: return "#2EB67D"
        case .flapping: return "#7E57C2"
        case .test: return "#439FE0"
        case .firing, .reminder:
            switch message.severity {
            case .critical: return "#D00000"
            case .warning: return "#E8A317"
            case .unknown, .ok: return "#8E8E8E"
            }
        }
    }

    static func blocks(_ message: AlertMessage, title: String, body: [String]) -> [[String: Any]] {
        var blocks: [[String: Any]] = []
        blocks.append([
            "type": "header",
            "text": ["type": "plain_text", "text": Truncation.characters(title, Limits.header), "emoji": true],
        ])
        // Room for the fields and the context line after the sections.
        let sections = paragraphs(body, maxCount: Limits.blocks - 3, budget: Limits.bodyTotal)
        blocks += sections.map(section)

        var fields: [String] = []
        if message.event != .resolved && message.event != .test {
            fields.append("*Severity*\n\(message.severity.rawValue)")
        }
        if message.event != .test {
            fields.append("*Service*\n\(escape(message.service.displayName)) (\(message.service.layer.rawValue))")
        }
        if message.event != .test { fields.append("*Started*\n\(MessageText.time(message.startedAt))") }
        if let resolved = message.resolvedAt { fields.append("*Resolved*\n\(MessageText.time(resolved))") }
        fields.append("*Instance*\n\(escape(message.instance))")
        blocks.append([
            "type": "section",
            "fields": fields.prefix(Limits.fields).map {
                ["type": "mrkdwn", "text": Truncation.characters($0, Limits.field)]
            },
        ])

        var context = "incident `\(escape(message.incidentID))`"
        if let url = message.statusURL, !url.isEmpty, !url.contains("|"), !url.contains(">") {
            context += " · <\(url)|status page>"
        }
        blocks.append([
            "type": "context", "elements": [["type": "mrkdwn", "text": Truncation.characters(context, Limits.field)]],
        ])
        return Array(blocks.prefix(Limits.blocks))
    }

    /// The rendered body as section texts: one per paragraph (split at blank lines), each within a section's
    /// limit (whole lines kept, then how many were left out), at most `maxCount`, all within `budget` characters.
    static func paragraphs(_ lines: [String], maxCount: Int, budget: Int) -> [String] {
        var groups: [[String]] = [[]]
        for line in lines {
            if line.isEmpty {
                if !(groups.last?.isEmpty ?? true) { groups.append([]) }
            } else {
                groups[groups.count - 1].append(Truncation.escaped(line, Limits.section))
            }
        }
        groups.removeAll { $0.isEmpty }
        if groups.count > maxCount {
            groups =
                Array(groups.prefix(maxCount - 1)) + [Array(groups.dropFirst(maxCount - 1).joined(separator: [""]))]
        }
        var left = budget
        var out: [String] = []
        for group in groups where left > 0 {
            let text = Truncation.joinedLines(group, limit: min(Limits.section, left))
            guard !text.isEmpty else { break }
            out.append(text)
            left -= text.count
        }
        return out
    }

    static func section(_ text: String) -> [String: Any] {
        ["type": "section", "text": ["type": "mrkdwn", "text": Truncation.escaped(text, Limits.section)]]
    }

    /// Slack mrkdwn control characters (docs/chat-platforms.md, "Slack").
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    // MARK: - Answers

    /// Slack's error bodies that mean the webhook itself is gone or forbidden.
    static let brokenDestination: Set<String> = [
        "no_service", "no_team", "invalid_token", "channel_is_archived", "channel_not_found", "action_prohibited",
        "posting_to_general_channel_denied",
    ]

    /// The shared classes first (no answer, 5xx, 408, redirects); then 2xx success, 429 waits `Retry-After`,
    /// 400 is a payload Slack refused, and any other 4xx is permanent (a revoked webhook or a gone channel says so).
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "slack") { return common }
        let status = response.status ?? 0
        let body = Evidence.excerpt(response.body, limit: 120)
        switch status {
        case 200..<300:
            return .delivered
        case 429:
            return .retry(
                after: response.retryAfter,
                reason: "slack: HTTP 429 rate limited \(body)".trimmingCharacters(in: .whitespaces))
        case 400:
            return .permanent(reason: "slack: HTTP 400 \(body): Slack refused the payload")
        default:
            let broken = Self.brokenDestination.contains(body)
            return .permanent(
                reason:
                    "slack: HTTP \(status) \(body)\(broken ? ": the webhook was revoked or its channel is gone" : "")")
        }
    }

    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status, [403, 404, 410].contains(status) else { return false }
        return Self.brokenDestination.contains(Evidence.excerpt(response.body, limit: 120)) || status == 410
    }
}
