import Foundation
import ProbeCore

/// Slack incoming webhook (facts/webhooks.md §1): a top-level `text` fallback for notifications, and Block Kit blocks
/// inside one legacy attachment for the coloured bar. The URL is the credential.
public struct SlackDestination: Destination {
    public let name: String
    public var kind: DestinationKind { .slack }
    public let url: Secret
    public let timeout: Double

    /// Slack's limits (facts/webhooks.md §1).
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
    }

    public init(name: String, url: Secret, timeout: Double = 15) {
        self.name = name
        self.url = url
        self.timeout = timeout
    }

    /// `kind: slack` with `url` (required) and `timeout`.
    public static func parse(name: String, _ options: ConfigMap) throws -> SlackDestination {
        guard let url = try options.url("url") else { throw options.error(at: nil, "\(options.path): 'url' is required for a slack destination") }
        let timeout = try options.duration("timeout", default: 15, minimum: 1)
        return SlackDestination(name: name, url: Secret(url.absoluteString), timeout: timeout)
    }

    public var redactedURL: String { Redact.url(url.exposed) }
    public var secrets: [Secret] { [url] }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(url: url.exposed, headers: ["Content-Type": "application/json; charset=utf-8"], body: Self.body(message))
    }

    // MARK: - Payload

    public static func body(_ message: AlertMessage) -> Data {
        let payload: [String: Any] = [
            "text": fallback(message),
            "attachments": [["color": colour(message), "fallback": fallback(message), "blocks": blocks(message)]],
        ]
        return (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// The notification line: state, title, the root cause in a few words.
    static func fallback(_ message: AlertMessage) -> String {
        var text = "[\(MessageText.label(message.event))] \(message.title)"
        if message.event != .test { text += " — \(message.summary)" }
        text += " (\(message.instance))"
        return MessageText.truncate(text, Limits.text)
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

    static func emoji(_ message: AlertMessage) -> String {
        switch message.event {
        case .resolved: "✅"
        case .flapping: "🔀"
        case .test: "🧪"
        case .reminder: "🔁"
        case .firing: message.severity == .critical ? "🔴" : message.severity == .warning ? "🟠" : "⚪"
        }
    }

    static func blocks(_ message: AlertMessage) -> [[String: Any]] {
        var blocks: [[String: Any]] = []
        let header = "\(emoji(message)) \(MessageText.label(message.event)): \(message.title)"
        blocks.append(["type": "header", "text": ["type": "plain_text", "text": MessageText.truncate(header, Limits.header), "emoji": true]])

        switch message.event {
        case .resolved, .test:
            blocks.append(section(escape(message.summary)))
        default:
            let lead = message.causes.first
            let key = lead.map { "`\(escape($0.key))`: " } ?? ""
            blocks.append(section("*\(MessageText.causeLabel(message)):* \(escape(message.service.displayName)) — \(key)\(escape(MessageText.truncate(message.summary, Limits.summary)))"))
            if let evidence = message.evidence, !evidence.isEmpty {
                let fenced = escape(MessageText.truncate(evidence, Limits.evidence)).replacingOccurrences(of: "```", with: "'''")
                blocks.append(section("*Evidence*\n```\(fenced)```"))
            }
            if let hint = message.hint, !hint.isEmpty { blocks.append(section("*Fix:* \(escape(hint))")) }
        }
        if message.causes.count > 1 || (message.event == .resolved && !message.causes.isEmpty) {
            let title = message.event == .resolved ? "*Checks of \(escape(message.service.displayName)) now*" : "*Failing checks of \(escape(message.service.displayName))*"
            blocks.append(section(title + "\n" + MessageText.lines(message.causes.map(line), limit: Limits.section - title.count - 1)))
        }
        if !message.symptoms.isEmpty {
            let title = "*Symptoms (\(message.symptoms.count))* — caused by this, they do not page on their own"
            blocks.append(section(title + "\n" + MessageText.lines(message.symptoms.map(line), limit: Limits.section - title.count - 1)))
        }

        var fields: [String] = []
        if message.event != .resolved && message.event != .test { fields.append("*Severity*\n\(message.severity.rawValue)") }
        if message.event != .test { fields.append("*Service*\n\(escape(message.service.displayName)) (\(message.service.layer.rawValue))") }
        if message.event != .test { fields.append("*Started*\n\(MessageText.time(message.startedAt))") }
        if let resolved = message.resolvedAt { fields.append("*Resolved*\n\(MessageText.time(resolved))") }
        fields.append("*Instance*\n\(escape(message.instance))")
        blocks.append(["type": "section", "fields": fields.prefix(Limits.fields).map { ["type": "mrkdwn", "text": MessageText.truncate($0, Limits.field)] }])

        var context = "incident `\(escape(message.incidentID))`"
        if let url = message.statusURL, !url.isEmpty, !url.contains("|"), !url.contains(">") {
            context += " · <\(url)|status page>"
        }
        blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": MessageText.truncate(context, Limits.field)]]])
        return Array(blocks.prefix(Limits.blocks))
    }

    static func line(_ line: AlertMessage.Line) -> String {
        "• `\(escape(line.key))` *\(line.status.rawValue)* — \(escape(MessageText.truncate(line.summary, Limits.item)))"
    }

    static func section(_ text: String) -> [String: Any] {
        ["type": "section", "text": ["type": "mrkdwn", "text": cut(text, Limits.section)]]
    }

    /// Truncates escaped text without leaving half an entity (`&am…`).
    static func cut(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        var kept = String(text.prefix(limit - 1))
        if let amp = kept.lastIndex(of: "&"), !kept[amp...].contains(";") { kept = String(kept[..<amp]) }
        return kept + "…"
    }

    /// Slack mrkdwn control characters (facts/webhooks.md §1).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    // MARK: - Answers

    /// Slack's error bodies that mean the webhook itself is gone or forbidden.
    static let brokenDestination: Set<String> = [
        "no_service", "no_team", "invalid_token", "channel_is_archived", "channel_not_found", "action_prohibited",
        "posting_to_general_channel_denied",
    ]

    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        guard let status = response.status else {
            return .retry(after: nil, reason: response.transportError ?? "no answer")
        }
        let body = Evidence.excerpt(response.body, limit: 120)
        switch status {
        case 200..<300:
            return .delivered
        case 429:
            return .retry(after: RetryAfter.seconds(response.headers, now: Date()), reason: "HTTP 429 rate limited \(body)".trimmingCharacters(in: .whitespaces))
        case 500..<600:
            return .retry(after: RetryAfter.seconds(response.headers, now: Date()), reason: "HTTP \(status) \(body)".trimmingCharacters(in: .whitespaces))
        case 400:
            return .permanent(reason: "HTTP 400 \(body): Slack refused the payload")
        case 300..<400:
            return .permanent(reason: "HTTP \(status): redirect not followed; use the webhook URL Slack shows")
        default:
            let broken = Self.brokenDestination.contains(body)
            return .permanent(reason: "HTTP \(status) \(body)\(broken ? ": the webhook was revoked or its channel is gone" : "")")
        }
    }

    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status, [403, 404, 410].contains(status) else { return false }
        return Self.brokenDestination.contains(Evidence.excerpt(response.body, limit: 120)) || status == 410
    }
}
