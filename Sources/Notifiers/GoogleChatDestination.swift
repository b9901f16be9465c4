import Foundation
import ProbeCore

/// Google Chat through a space's incoming webhook: a cardsV2 card, posted in the incident's thread
/// (`thread.threadKey` = incident id, and `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD` on the URL), so
/// the RESOLVED lands under its firing. At most 32,000 bytes per message (docs/chat-platforms.md, "Google Chat").
public struct GoogleChatConfig: Sendable, Equatable {
    public var name: String
    /// `https://chat.googleapis.com/v1/spaces/{S}/messages?key=…&token=…`: key and token are the credential.
    public var url: Secret

    public static let environmentVariable = "CLEARML_PROBE_ALERT_GOOGLECHAT_URL"

    public init(name: String = "googlechat", url: String) throws(DestinationConfigError) {
        self.name = name
        self.url = Secret(url.trimmingCharacters(in: .whitespacesAndNewlines))
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        _ = try DestinationURL.parse(url.exposed, what: "googlechat '\(name)' url")
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> GoogleChatConfig?
    {
        try EnvironmentReader.config(environmentVariable, substitution) { url throws(DestinationConfigError) in
            try GoogleChatConfig(url: url)
        }
    }

    public static func parse(_ map: ConfigMap, name: String) throws -> GoogleChatConfig {
        let url = try map.required("url", "the Google Chat space webhook URL")
        let config: GoogleChatConfig
        do { config = try GoogleChatConfig(name: name, url: url) } catch {
            throw map.error(key: "url", error.description)
        }
        try map.finish()
        return config
    }
}

public struct GoogleChatDestination: WebhookURLDestination, Platform {
    public static let kind = DestinationKind.googlechat
    public static let escaping = TextEscaping.html
    /// About one message a second per space.
    public static let pace: RateLimit? = .onePerSecond
    public static let environmentVariables = [GoogleChatConfig.environmentVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> GoogleChatDestination?
    {
        try GoogleChatConfig.fromEnvironment(substitution).map { GoogleChatDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> GoogleChatDestination
    {
        GoogleChatDestination(config: try GoogleChatConfig.parse(map, name: name), template: template)
    }

    public let config: GoogleChatConfig
    public let template: MessageTemplate

    public static let maxMessageBytes = 32_000
    /// Kept below the limit for the JSON around the text.
    public static let replyOption = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

    public init(config: GoogleChatConfig, template: MessageTemplate = .builtIn(.googlechat)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    public var webhookURL: Secret { config.url }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: Self.endpoint(config.url.exposed),
            headers: ["Content-Type": "application/json; charset=UTF-8"],
            body: Self.payload(message, text: template.render(message)).data)
    }

    /// The webhook URL with `messageReplyOption` set (replacing any other value), its key and token kept.
    static func endpoint(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        items.removeAll { $0.name == "messageReplyOption" || $0.name == "threadKey" }
        items.append(URLQueryItem(name: "messageReplyOption", value: replyOption))
        components.queryItems = items
        return components.string ?? url
    }

    public static func payload(_ message: AlertMessage, text: RenderedText) -> PayloadJSON {
        let title = Truncation.runes(TextEscaping.html.plain(text.title), 200)
        return PayloadJSON.keepingLines(text.lines.count, maxBytes: maxMessageBytes) { keep in
            let left = text.lines.count - keep
            let lines = Array(text.lines.prefix(keep)) + (left > 0 ? ["<i>\(Truncation.moreLines(left))</i>"] : [])
            return build(message, title: title, body: lines.map { $0.isEmpty ? "" : $0 }.joined(separator: "<br>"))
        }
    }

    static func build(_ message: AlertMessage, title: String, body: String) -> PayloadJSON {
        var widgets: [PayloadJSON] = []
        if !body.isEmpty { widgets.append(["textParagraph": ["text": .string(body)]]) }
        var details: [PayloadJSON] = [
            [
                "decoratedText": [
                    "topLabel": "Severity",
                    "text": .string("<font color=\"\(message.cardColor)\">\(message.severity.label)</font>"),
                ]
            ],
            [
                "decoratedText": [
                    "topLabel": "Service", "text": .string(TextEscaping.html.escape(message.serviceAndLayer)),
                ]
            ],
            [
                "decoratedText": [
                    "topLabel": "Incident",
                    "text": .string(TextEscaping.html.escape(Truncation.runes(message.incidentID, 300))),
                ]
            ],
        ]
        if let url = message.statusURL, !url.isEmpty {
            details.append([
                "buttonList": ["buttons": [["text": "Status page", "onClick": ["openLink": ["url": .string(url)]]]]]
            ])
        }
        var sections: [PayloadJSON] = []
        if !widgets.isEmpty { sections.append(["widgets": .array(widgets)]) }
        sections.append(["widgets": .array(details)])
        return [
            "thread": ["threadKey": .string(message.incidentID)],
            "cardsV2": [
                [
                    "cardId": "clearml-probe-alert",
                    "card": [
                        "header": [
                            "title": .string(title),
                            "subtitle": .string(
                                Truncation.runes(
                                    "\(message.instance) · \(message.severity.label) · \(MessageText.label(message.event))",
                                    200)),
                        ],
                        "sections": .array(sections),
                    ],
                ]
            ],
        ]
    }

    /// 200 success; 429 RESOURCE_EXHAUSTED backs off (Google promises no Retry-After, one is honoured when sent);
    /// 400 INVALID_ARGUMENT, 401/403/404 (webhook removed, bad key or token) and other 4xx are permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "googlechat") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        let error = response.json?["error"]
        let code = error?["status"]?.string
        let text = error?["message"]?.string ?? response.bodyExcerpt
        if status == 429 {
            return .retry(after: response.retryAfter, reason: "googlechat: HTTP 429 \(code ?? "RESOURCE_EXHAUSTED")")
        }
        var reason =
            "googlechat: HTTP \(status)" + (code.map { " \($0)" } ?? "")
            + (text.isEmpty ? "" : " \(Truncation.runes(text, 200))")
        if [401, 403, 404].contains(status) {
            reason += " (the webhook was removed or its key/token is wrong; replace the URL)"
        }
        return .permanent(reason: reason)
    }
}
