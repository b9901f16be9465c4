import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

/// One destination per platform, with fake credentials that the tests look for in anything printed.
enum Platforms {
    static let teamsURL =
        "https://prod-42.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TEAMSSECRETSIG"
    static let discordURL = "https://discord.com/api/webhooks/1100000000000000001/DISCORDSECRETTOKEN"
    static let mattermostURL = "https://chat.example.com/hooks/mattermostsecretkey"
    static let googleChatURL =
        "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=GCHATSECRETKEY&token=GCHATSECRETTOKEN"
    static let telegramToken = "123456:TELEGRAMSECRET-token_abc"
    static let pagerDutyKey = "R0123456789ABCDEF0123456789ABCDE"
    static let alertmanagerURL = "http://alertmanager:9093"
    static let secrets = [
        "XYZ", "WEBHOOKSECRETPATH", "TEAMSSECRETSIG", "DISCORDSECRETTOKEN", "mattermostsecretkey", "GCHATSECRETKEY",
        "GCHATSECRETTOKEN",
        "TELEGRAMSECRET", pagerDutyKey,
    ]
}

@Suite("Golden payloads per platform")
struct PlatformGoldenPayloadTests {
    @Test("no credential appears in a destination's printable address or name", arguments: DestinationKind.allCases)
    func noSecretsPrinted(_ platform: DestinationKind) throws {
        let destination = try PlatformSamples.destination(platform)
        let printed = "\(destination.name) \(destination.redactedURL) \(destination)"
        for secret in Platforms.secrets { #expect(!printed.contains(secret), "\(platform) prints \(secret)") }
        #expect(destination.redactedURL.hasPrefix("http"))
        #expect(!destination.redactedURL.dropFirst(8).contains("/"))
    }

    // MARK: - Limits and escaping, platform by platform

    @Test func teamsEnvelopeAndBudget() throws {
        let destination = TeamsDestination(config: try TeamsConfig(url: Platforms.teamsURL))
        let firing = try #require(
            try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now).body.json as? [String: Any]
        )
        #expect(firing["type"] as? String == "message")
        let attachment = try #require((firing["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["version"] as? String == "1.4")
        #expect(card["type"] as? String == "AdaptiveCard")
        let container = try #require((card["body"] as? [[String: Any]])?.first)
        #expect(container["style"] as? String == "attention")
        let resolved = try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now).body
            .text
        #expect(resolved.contains("\"style\":\"good\""))
        let huge = try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body
        #expect(huge.count <= TeamsDestination.maxBodyBytes)
        #expect(huge.text.contains("more line"))
    }

    @Test func teamsRefusesRetiredConnectorURLs() {
        for url in [
            "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456",
            "https://outlook.office.com/webhook/abc/IncomingWebhook/def/ghi",
        ] {
            #expect(throws: DestinationConfigError.self) { try TeamsConfig(url: url) }
            do { _ = try TeamsConfig(url: url) } catch {
                #expect(error.description.contains("retired"))
                #expect(error.description.contains("Workflows"))
                #expect(!error.description.contains("IncomingWebhook"))
            }
        }
    }

    @Test func discordNeverParsesMentionsAndKeepsEmbedLimits() throws {
        let destination = DiscordDestination(config: try DiscordConfig(url: Platforms.discordURL))
        let request = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now)
        #expect(request.url.hasSuffix("?wait=true"))
        let body = try #require(request.body.json as? [String: Any])
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [Any] != nil)
        #expect(((body["allowed_mentions"] as? [String: Any])?["parse"] as? [Any])?.isEmpty == true)
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["color"] as? Int == 0xE74C3C)
        #expect(
            !(embed["description"] as? String ?? "").contains("@everyone"), "a mention is broken up in the text too")
        let resolved = try #require(
            (try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now).body.json
                as? [String: Any])?["embeds"] as? [[String: Any]])
        #expect(resolved.first?["color"] as? Int == 0x2ECC71)
        let huge = try #require(
            (try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body.json as? [String: Any])?[
                "embeds"] as? [[String: Any]])
        let e = try #require(huge.first)
        let title = e["title"] as? String ?? ""
        let description = e["description"] as? String ?? ""
        let fields = (e["fields"] as? [[String: Any]] ?? []).reduce(0) {
            $0 + ($1["name"] as? String ?? "").count + ($1["value"] as? String ?? "").count
        }
        let footer = (e["footer"] as? [String: Any])?["text"] as? String ?? ""
        #expect(title.count <= 256)
        #expect(description.count <= 4096)
        #expect(title.count + description.count + fields + footer.count <= 6000)
    }

    @Test func mattermostStaysUnderItsPostLimit() throws {
        let destination = MattermostDestination(config: try MattermostConfig(url: Platforms.mattermostURL))
        let body = try #require(
            try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body.json as? [String: Any])
        let text = body["text"] as? String ?? ""
        let attachment = try #require((body["attachments"] as? [[String: Any]])?.first)
        let total = text.unicodeScalars.count + (attachment["text"] as? String ?? "").unicodeScalars.count
        #expect(total <= MattermostDestination.maxPost)
        #expect((attachment["text"] as? String ?? "").contains("more line"))
        let firing = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now).body.text
        #expect(firing.contains("@\u{2060}everyone"), "@everyone is broken with a word joiner")
        #expect(firing.contains("\\\\<script\\\\>"), "Markdown/HTML in check output is escaped")
    }

    @Test func googleChatThreadsByIncident() throws {
        let destination = GoogleChatDestination(config: try GoogleChatConfig(url: Platforms.googleChatURL))
        let firing = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now)
        let resolved = try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now)
        let components = try #require(URLComponents(string: firing.url))
        #expect(
            components.queryItems?.first { $0.name == "messageReplyOption" }?.value
                == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
        #expect(components.queryItems?.first { $0.name == "key" }?.value == "GCHATSECRETKEY")
        let key1 = ((firing.body.json as? [String: Any])?["thread"] as? [String: Any])?["threadKey"] as? String
        let key2 = ((resolved.body.json as? [String: Any])?["thread"] as? [String: Any])?["threadKey"] as? String
        #expect(key1 == PlatformFixtures.firing.incidentID)
        #expect(key1 == key2)
        #expect(firing.body.text.contains("&lt;script&gt;"))
        #expect(
            try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body.count
                <= GoogleChatDestination.maxMessageBytes)
    }

    @Test func telegramEscapesHTMLAndCutsAtWholeLines() throws {
        let destination = TelegramDestination(
            config: try TelegramConfig(botToken: Platforms.telegramToken, chatID: "-1001234567890"))
        let request = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now)
        #expect(request.url == "https://api.telegram.org/bot\(Platforms.telegramToken)/sendMessage")
        let body = try #require(request.body.json as? [String: Any])
        #expect(body["parse_mode"] as? String == "HTML")
        #expect((body["chat_id"] as? NSNumber)?.int64Value == -1_001_234_567_890)
        let text = try #require(body["text"] as? String)
        #expect(text.contains("&lt;script&gt;"))
        #expect(text.contains("snapshots &amp; cannot"))
        #expect(text.contains("&lt;b&gt;stop-writes"), "HTML in a hint is shown, not rendered")
        let huge = try #require(
            (try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body.json as? [String: Any])?[
                "text"] as? String)
        #expect(TextEscaping.html.plain(huge).unicodeScalars.count <= TelegramDestination.maxText)
        #expect(huge.contains("more lines"))
    }

    @Test func pagerDutyTriggersAndResolvesWithOneDedupKey() throws {
        let destination = PagerDutyDestination(config: try PagerDutyConfig(routingKey: Platforms.pagerDutyKey))
        let trigger = try #require(
            try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now).body.json as? [String: Any]
        )
        let resolve = try #require(
            try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now).body.json
                as? [String: Any])
        #expect(trigger["event_action"] as? String == "trigger")
        #expect(resolve["event_action"] as? String == "resolve")
        #expect(trigger["dedup_key"] as? String == "clearml-probe/prod/redis/1787392920")
        #expect(trigger["dedup_key"] as? String == resolve["dedup_key"] as? String)
        #expect((trigger["payload"] as? [String: Any])?["severity"] as? String == "critical")
        var unknown = PlatformFixtures.firing
        unknown.severity = .unknown
        let blind = try #require(
            try destination.request(for: unknown, now: PlatformFixtures.now).body.json as? [String: Any])
        #expect((blind["payload"] as? [String: Any])?["severity"] as? String == "error")
        let huge = try #require(
            try destination.request(for: PlatformFixtures.huge, now: PlatformFixtures.now).body.json as? [String: Any])
        #expect(((huge["payload"] as? [String: Any])?["summary"] as? String ?? "").count <= 1024)
        var long = PlatformFixtures.firing
        long.incidentID = String(repeating: "x", count: 400)
        let key = PagerDutyDestination.dedupKey(for: long)
        #expect(key.utf8.count <= 255)
        #expect(key == PagerDutyDestination.dedupKey(for: long))
    }

    @Test func alertmanagerEndsAtMovesWhileFiringAndIsTheResolutionOnResolve() throws {
        let destination = AlertmanagerDestination(config: try AlertmanagerConfig(url: Platforms.alertmanagerURL))
        let request = try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now)
        #expect(request.url == "http://alertmanager:9093/api/v2/alerts")
        let alerts = try #require(request.body.json as? [[String: Any]])
        let labels = try #require(alerts.first?["labels"] as? [String: String])
        #expect(
            labels == [
                "alertname": "ClearMLProbeIncident", "service": "redis", "layer": "data", "severity": "critical",
                "instance": "prod",
            ])
        #expect(alerts.first?["endsAt"] as? String == "2026-08-22T10:08:01Z")
        let later = try #require(
            try destination.request(for: PlatformFixtures.firing, now: PlatformFixtures.now.addingTimeInterval(60)).body
                .json as? [[String: Any]])
        #expect(later.first?["endsAt"] as? String == "2026-08-22T10:09:01Z")
        let resolved = try #require(
            try destination.request(for: PlatformFixtures.resolvedMessage, now: PlatformFixtures.now).body.json
                as? [[String: Any]])
        #expect(resolved.count == 3, "resolved for every severity the incident may have fired with")
        #expect(resolved.allSatisfy { $0["endsAt"] as? String == "2026-08-22T10:31:00Z" })
        #expect(resolved.contains { $0["labels"] as? [String: String] == labels })
        #expect(
            destination.needsResend(
                PlatformFixtures.firing, lastSent: PlatformFixtures.now,
                now: PlatformFixtures.now.addingTimeInterval(59)) == false)
        #expect(
            destination.needsResend(
                PlatformFixtures.firing, lastSent: PlatformFixtures.now,
                now: PlatformFixtures.now.addingTimeInterval(60)))
        #expect(
            destination.needsResend(
                PlatformFixtures.resolvedMessage, lastSent: PlatformFixtures.resolved,
                now: PlatformFixtures.resolved.addingTimeInterval(600)))
        #expect(
            !destination.needsResend(
                PlatformFixtures.resolvedMessage, lastSent: PlatformFixtures.resolved.addingTimeInterval(840),
                now: PlatformFixtures.resolved.addingTimeInterval(960)))
        let withAuth = try AlertmanagerConfig(url: "https://probe:pa%20ss@am.example/prefix/")
        #expect(withAuth.url == "https://am.example/prefix/api/v2/alerts")
        #expect(withAuth.basicAuth?.exposed == "Basic " + Data("probe:pa ss".utf8).base64EncodedString())
    }
}
