import Foundation
import ProbeCore

/// Telegram through the Bot API `sendMessage`: HTML parse mode (check output escaped: `<`, `>`, `&`), link previews
/// off, at most 4096 characters of visible text (docs/chat-platforms.md, "Telegram").
public struct TelegramConfig: Sendable, Equatable {
    public var name: String
    /// `123456:ABC…`: goes in the URL path, so the URL is never printed.
    public var botToken: Secret
    /// A numeric chat id (`-1001234567890`) or `@channelusername`.
    public var chatID: String
    /// `https://api.telegram.org` unless overridden (a local Bot API server, a test receiver).
    public var apiURL: String
    /// A forum topic (`message_thread_id`), when the chat is a forum.
    public var topic: Int?

    public static let tokenVariable = "CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN"
    public static let chatVariable = "CLEARML_PROBE_ALERT_TELEGRAM_CHAT_ID"
    public static let apiVariable = "CLEARML_PROBE_ALERT_TELEGRAM_API_URL"
    public static let defaultAPI = "https://api.telegram.org"

    public init(name: String = "telegram", botToken: String, chatID: String, apiURL: String? = nil, topic: Int? = nil)
        throws(DestinationConfigError)
    {
        self.name = name
        self.botToken = Secret(botToken.trimmingCharacters(in: .whitespacesAndNewlines))
        self.chatID = chatID.trimmingCharacters(in: .whitespaces)
        var api = (apiURL?.isEmpty == false ? apiURL! : Self.defaultAPI).trimmingCharacters(in: .whitespaces)
        while api.hasSuffix("/") { api.removeLast() }
        self.apiURL = api
        self.topic = topic
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        let token = botToken.exposed
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].allSatisfy(\.isNumber), !parts[1].isEmpty,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw DestinationConfigError(
                "telegram '\(name)': the bot token is not of the form <digits>:<letters> (as given by @BotFather)")
        }
        if chatID.hasPrefix("@") {
            guard chatID.count >= 2,
                chatID.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                throw DestinationConfigError("telegram '\(name)': chat id '\(chatID)' is not @channelusername")
            }
        } else {
            guard Int64(chatID) != nil else {
                throw DestinationConfigError(
                    "telegram '\(name)': chat id '\(chatID)' is not a number (e.g. -1001234567890) or @channelusername")
            }
        }
        _ = try DestinationURL.parse(apiURL, what: "telegram '\(name)' api_url")
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> TelegramConfig?
    {
        let reader = EnvironmentReader(substitution: substitution)
        let token = try reader.value(tokenVariable)
        let chat = try reader.value(chatVariable)
        switch (token, chat) {
        case (nil, nil): return nil
        case (nil, .some):
            throw DestinationConfigError("\(chatVariable) is set but \(tokenVariable) is not (both are needed)")
        case (.some, nil):
            throw DestinationConfigError("\(tokenVariable) is set but \(chatVariable) is not (both are needed)")
        case (.some(let token), .some(let chat)):
            do { return try TelegramConfig(botToken: token, chatID: chat, apiURL: try reader.value(apiVariable)) } catch
            {
                throw DestinationConfigError("\(tokenVariable)/\(chatVariable): \(error.description)")
            }
        }
    }

    /// Reads `bot_token`, `chat_id`, `api_url` and `topic` from a `destinations:` entry.
    public static func parse(_ map: ConfigMap, name: String) throws -> TelegramConfig {
        let token = try map.required("bot_token", "use ${CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN} or a *_FILE secret")
        let chat = try map.required("chat_id")
        let api = try map.nonEmptyString("api_url")
        let topicValue = try map.int("topic", default: 0)
        let config: TelegramConfig
        do {
            config = try TelegramConfig(
                name: name, botToken: token, chatID: chat, apiURL: api, topic: topicValue == 0 ? nil : topicValue)
        } catch {
            let key =
                error.description.contains("chat id")
                ? "chat_id" : (error.description.contains("api_url") ? "api_url" : "bot_token")
            throw map.error(key: key, error.description)
        }
        try map.finish()
        return config
    }
}

public struct TelegramDestination: Destination, Platform {
    public static let kind = DestinationKind.telegram
    public static let escaping = TextEscaping.html
    /// One a second per chat (a group or channel also gets 20 a minute: `rateLimit`).
    public static let pace: RateLimit? = .onePerSecond
    public static let environmentVariables = [
        TelegramConfig.tokenVariable, TelegramConfig.chatVariable, TelegramConfig.apiVariable,
    ]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> TelegramDestination?
    {
        try TelegramConfig.fromEnvironment(substitution).map { TelegramDestination(config: $0, template: template) }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> TelegramDestination {
        TelegramDestination(config: try TelegramConfig.parse(map, name: name), template: template)
    }

    public let config: TelegramConfig
    public let template: MessageTemplate

    /// Characters of text after entity parsing.
    public static let maxText = 4096

    public init(config: TelegramConfig, template: MessageTemplate = .builtIn(.telegram)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    /// scheme://host[:port] only: the rest of the address is (or may carry) the credential.
    public var redactedURL: String { Redact.url(config.apiURL) }
    public var secrets: [Secret] { [config.botToken] }

    /// A permanent answer that means the destination itself is gone (deleted webhook, revoked token).
    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status else { return false }
        return status == 401
    }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        OutgoingRequest(
            url: "\(config.apiURL)/bot\(config.botToken.exposed)/sendMessage",
            body: Self.payload(message, text: template.render(message), config: config).data)
    }

    /// What Telegram counts: the text without tags, entities decoded.
    static func visibleLength(_ html: String) -> Int { TextEscaping.html.plain(html).unicodeScalars.count }

    public static func payload(_ message: AlertMessage, text: RenderedText, config: TelegramConfig) -> PayloadJSON {
        let all = [text.title] + text.lines
        var body = all.joined(separator: "\n")
        var parseMode: PayloadJSON? = "HTML"
        if visibleLength(body) > maxText {
            // Whole lines only, so no tag or entity is ever cut.
            let kept = Truncation.lines(
                all, limit: maxText, size: visibleLength, omitted: { "<i>\(Truncation.moreLines($0))</i>" })
            body = kept.joined(separator: "\n")
            if visibleLength(body) > maxText || kept.first != text.title {
                // Not even the first line fits as HTML: send plain text, cut by characters.
                body = Truncation.runes(TextEscaping.html.plain(all.joined(separator: "\n")), maxText)
                parseMode = nil
            }
        }
        let chat: PayloadJSON = Int64(config.chatID).map { .int(Int($0)) } ?? .string(config.chatID)
        return PayloadJSON.compact([
            ("chat_id", chat),
            ("message_thread_id", config.topic.map { .int($0) }),
            ("parse_mode", parseMode),
            ("link_preview_options", ["is_disabled": true]),
            ("text", .string(body)),
        ])
    }

    /// 1 message a second per chat, and 20 a minute in a group or channel (a negative id or @channelname).
    public var rateLimit: RateLimit? {
        let group = config.chatID.hasPrefix("-") || config.chatID.hasPrefix("@")
        return RateLimit([.messages(1, per: 1)] + (group ? [.messages(20, per: 60)] : []))
    }

    /// `ok: true` success; 429 waits `parameters.retry_after` (or `Retry-After`); 400 (chat not found, can't parse
    /// entities), 401 (bad token) and 403 (bot blocked or kicked) are permanent; a group that became a supergroup
    /// (`parameters.migrate_to_chat_id`) is permanent with the new chat id to configure; 5xx retry.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "telegram") { return common }
        let status = response.status ?? 0
        let json = response.json
        if (200...299).contains(status) {
            if json?["ok"]?.bool == false {
                return .permanent(reason: "telegram: \(json?["description"]?.string ?? "ok: false")")
            }
            return .delivered
        }
        let description = json?["description"]?.string ?? response.bodyExcerpt
        let parameters = json?["parameters"]
        if status == 429 {
            return .retry(
                after: RetryAfter.capped(parameters?["retry_after"]?.double) ?? response.retryAfter,
                reason: "telegram: HTTP 429 \(Truncation.runes(description, 200))")
        }
        if let newChat = parameters?["migrate_to_chat_id"]?.string {
            return .permanent(reason: "telegram: the group became a supergroup; set chat_id to \(newChat)")
        }
        var reason = "telegram: HTTP \(status) \(Truncation.runes(description, 200))"
        if status == 401 { reason += " (the bot token is wrong)" }
        if description.lowercased().contains("can't parse entities") { reason += " (a template produced invalid HTML)" }
        return .permanent(reason: reason)
    }
}
