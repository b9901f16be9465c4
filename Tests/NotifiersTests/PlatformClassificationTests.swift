import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// Each platform's answers, as the local receiver (Tests/doubles/webhook_receiver.py) gives them in that platform's
/// real shapes, judged by the destination: success, retry with the platform's hint, or permanent.
@Suite("Error classification per platform", .serialized)
struct PlatformClassificationTests {
    static let receiver: PythonDouble? = try? PythonDouble("webhook_receiver.py")

    enum Expected: Equatable, CustomStringConvertible {
        case delivered
        case retry(Double?)
        case permanent(String)
        var description: String {
            switch self {
            case .delivered: "delivered"
            case .retry(let after): "retry(\(after.map { String($0) } ?? "nil"))"
            case .permanent(let text): "permanent(\(text))"
            }
        }
        func matches(_ outcome: DeliveryOutcome) -> Bool {
            switch (self, outcome) {
            case (.delivered, .delivered): return true
            case (.retry(let want), .retry(let after, _)): return want == after
            case (.permanent(let text), .permanent(let reason)): return reason.contains(text)
            default: return false
            }
        }
    }

    func destination(_ platform: String, base: String) throws -> any Destination {
        switch platform {
        case "teams":
            return TeamsDestination(config: try TeamsConfig(url: "\(base)/teams/workflows/abc?sig=TEAMSSECRETSIG"))
        case "discord":
            return DiscordDestination(
                config: try DiscordConfig(url: "\(base)/discord/api/webhooks/1/DISCORDSECRETTOKEN"))
        case "mattermost":
            return MattermostDestination(
                config: try MattermostConfig(url: "\(base)/mattermost/hooks/mattermostsecretkey"))
        case "googlechat":
            return GoogleChatDestination(
                config: try GoogleChatConfig(
                    url: "\(base)/googlechat/v1/spaces/AAAA/messages?key=K&token=GCHATSECRETTOKEN"))
        case "telegram":
            return TelegramDestination(
                config: try TelegramConfig(
                    botToken: Platforms.telegramToken, chatID: "-1001234567890", apiURL: "\(base)/telegram"))
        case "pagerduty":
            return PagerDutyDestination(
                config: try PagerDutyConfig(routingKey: Platforms.pagerDutyKey, url: "\(base)/pagerduty/v2/enqueue"))
        case "alertmanager": return AlertmanagerDestination(config: try AlertmanagerConfig(url: "\(base)/alertmanager"))
        default: throw TestSupportError("unknown platform \(platform)")
        }
    }

    /// (platform, scripted answer, expected outcome)
    static var table: [(String, [String: Any], Expected)] {
        [
            ("teams", ["preset": "teams_202"], .delivered),
            ("teams", ["status": 200, "body": ""], .delivered),
            ("teams", ["status": 429, "headers": ["Retry-After": "7"], "body": ""], .retry(7)),
            (
                "teams",
                [
                    "status": 404,
                    "json": ["error": ["code": "WorkflowNotFound", "message": "The workflow was not found."]],
                ], .permanent("HTTP 404 (the workflow was deleted")
            ),
            ("teams", ["status": 502, "body": "Bad Gateway"], .retry(nil)),
            ("discord", ["preset": "discord_ok"], .delivered),
            ("discord", ["status": 204, "body": ""], .delivered),
            ("discord", ["preset": "discord_429", "retry_after": 2.5], .retry(3)),
            ("discord", ["preset": "discord_429", "retry_after": 0.4], .retry(1)),
            (
                "discord", ["preset": "discord_unknown_webhook"],
                .permanent("code 10015 Unknown Webhook (the webhook was deleted")
            ),
            (
                "discord",
                ["status": 400, "json": ["code": 50035, "message": "Invalid Form Body", "errors": ["embeds": [:]]]],
                .permanent("HTTP 400 code 50035 Invalid Form Body")
            ),
            ("discord", ["status": 503, "body": "upstream connect error"], .retry(nil)),
            ("mattermost", ["preset": "mattermost_ok"], .delivered),
            (
                "mattermost",
                [
                    "status": 400,
                    "json": [
                        "id": "web.incoming_webhook.text.app_error", "message": "No text specified.",
                        "status_code": 400,
                    ],
                ], .permanent("HTTP 400 No text specified.")
            ),
            (
                "mattermost",
                [
                    "status": 404,
                    "json": [
                        "id": "web.incoming_webhook.invalid.app_error", "message": "Invalid webhook.",
                        "status_code": 404,
                    ],
                ], .permanent("Invalid webhook.")
            ),
            (
                "mattermost", ["status": 429, "headers": ["X-Ratelimit-Reset": "3"], "body": "limit exceeded"],
                .retry(3)
            ),
            ("mattermost", ["status": 500, "body": "oops"], .retry(nil)),
            ("googlechat", ["preset": "googlechat_ok"], .delivered),
            ("googlechat", ["preset": "googlechat_429"], .retry(nil)),
            (
                "googlechat",
                [
                    "status": 400,
                    "json": [
                        "error": [
                            "code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid JSON payload received.",
                        ]
                    ],
                ], .permanent("HTTP 400 INVALID_ARGUMENT Invalid JSON payload")
            ),
            (
                "googlechat",
                [
                    "status": 404,
                    "json": [
                        "error": ["code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found."]
                    ],
                ], .permanent("NOT_FOUND")
            ),
            (
                "googlechat",
                ["status": 500, "json": ["error": ["code": 500, "status": "INTERNAL", "message": "Internal error"]]],
                .retry(nil)
            ),
            ("telegram", ["preset": "telegram_ok"], .delivered),
            ("telegram", ["preset": "telegram_429", "retry_after": 34], .retry(34)),
            ("telegram", ["preset": "telegram_chat_not_found"], .permanent("HTTP 400 Bad Request: chat not found")),
            (
                "telegram",
                [
                    "status": 400,
                    "json": [
                        "ok": false, "error_code": 400,
                        "description": "Bad Request: group chat was upgraded to a supergroup chat",
                        "parameters": ["migrate_to_chat_id": -1_009_876_543_210],
                    ],
                ], .permanent("set chat_id to -1009876543210")
            ),
            (
                "telegram",
                [
                    "status": 403,
                    "json": [
                        "ok": false, "error_code": 403,
                        "description": "Forbidden: bot was kicked from the supergroup chat",
                    ],
                ], .permanent("bot was kicked")
            ),
            (
                "telegram", ["status": 401, "json": ["ok": false, "error_code": 401, "description": "Unauthorized"]],
                .permanent("the bot token is wrong")
            ),
            ("telegram", ["status": 502, "body": "Bad Gateway"], .retry(nil)),
            ("pagerduty", ["preset": "pagerduty_202"], .delivered),
            (
                "pagerduty", ["preset": "pagerduty_400"],
                .permanent("Event object is invalid: 'payload.summary' is missing")
            ),
            ("pagerduty", ["status": 429, "body": ""], .retry(30)),
            ("pagerduty", ["status": 429, "headers": ["Retry-After": "12"], "body": ""], .retry(12)),
            ("pagerduty", ["status": 500, "body": ""], .retry(nil)),
            ("alertmanager", ["preset": "alertmanager_200"], .delivered),
            (
                "alertmanager",
                [
                    "status": 400, "headers": ["Content-Type": "application/json"],
                    "body": "\"start time must be before end time\"",
                ], .permanent("HTTP 400")
            ),
            ("alertmanager", ["status": 500, "body": "internal"], .retry(nil)),
            ("alertmanager", ["status": 503, "body": ""], .retry(nil)),
        ]
    }

    @Test("answers in each platform's shape are judged as the facts say", arguments: 0..<38)
    func classify(_ index: Int) async throws {
        let receiver = try #require(Self.receiver, "webhook_receiver.py did not start")
        #expect(Self.table.count == 38, "update the arguments range")
        let (platform, answer, expected) = Self.table[index]
        try await receiver.control("/reset", [:])
        try await receiver.control("/script", ["path": "/\(platform)/", "responses": [answer]])
        let destination = try destination(platform, base: "http://127.0.0.1:\(receiver.port("webhook"))")
        let request = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now)
        let response = await CurlAlertTransport().send(request, timeout: 5)
        let outcome = destination.classify(response)
        #expect(expected.matches(outcome), "\(platform) \(answer) → \(outcome), expected \(expected)")
        for secret in Platforms.secrets {
            if case .permanent(let reason) = outcome { #expect(!reason.contains(secret)) }
            if case .retry(_, let reason) = outcome { #expect(!reason.contains(secret)) }
        }
        let recorded = try await receiver.requests()
        #expect(recorded.count == 1)
        #expect((recorded.first?["path"] as? String)?.hasPrefix("/\(platform)/") == true)
    }

    @Test("no answer at all is retried", arguments: ["teams", "discord", "telegram", "pagerduty"])
    func refused(_ platform: String) async throws {
        let destination = try destination(platform, base: "http://127.0.0.1:\(Ports.closed())")
        let response = await CurlAlertTransport().send(
            try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now), timeout: 2)
        guard case .retry(nil, let reason) = destination.classify(response) else {
            Issue.record("\(platform): expected a retry")
            return
        }
        #expect(reason.hasPrefix("\(platform): no answer"))
    }

    @Test func whatTheReceiverGotIsThePlatformsFormat() async throws {
        let receiver = try #require(Self.receiver)
        try await receiver.control("/reset", [:])
        try await receiver.control("/scenario", ["scenario": "googlechat_ok", "path": "/googlechat/"])
        let destination = try destination("googlechat", base: "http://127.0.0.1:\(receiver.port("webhook"))")
        let response = await CurlAlertTransport().send(
            try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now), timeout: 5)
        #expect(destination.classify(response) == .delivered)
        #expect(response.body.contains("spaces/AAAA/threads/prod/redis/1787392920"))
        let request = try #require(try await receiver.requests().first)
        #expect((request["query"] as? String ?? "").contains("messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"))
    }
}
