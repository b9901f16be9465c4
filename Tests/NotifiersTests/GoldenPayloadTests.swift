import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

/// Slack's and the webhook's payloads beyond their golden files (which `EveryPlatformTests` compares for every kind):
/// Slack's block limits and order, the webhook's size.
@Suite struct GoldenPayloadTests {
    typealias F = AlertFixtures

    static let cases: [(String, AlertMessage)] = [
        ("firing", F.message(.firing, symptoms: 0)),
        ("resolved", F.message(.resolved)),
        ("symptoms", F.message(.firing, symptoms: 3)),
        (
            "truncated",
            F.message(
                .firing, symptoms: 400,
                summary: String(repeating: "Redis refuses connections & <writes> ", count: 120),
                evidence: String(repeating: "MISCONF Redis is configured to save RDB snapshots ``` ", count: 100),
                title: "Redis is failing " + String(repeating: "with a very long title ", count: 10))
        ),
    ]

    @Test(arguments: cases.map(\.0))
    func slack(_ name: String) throws {
        let message = Self.cases.first { $0.0 == name }!.1
        let body = SlackDestination.body(message)
        let json = try #require(JSONValue.parse(body))
        guard case .array(let attachments)? = json["attachments"],
            case .array(let blocks)? = attachments.first?["blocks"]
        else {
            Issue.record("no blocks in an attachment")
            return
        }
        #expect(blocks.count <= 50)
        for block in blocks {
            if case .string(let text)? = block.at("text.text") {
                #expect(text.count <= (block["type"] == .string("header") ? 150 : 3000))
            }
        }
        // The notification text is the template's title (mrkdwn), the same words as the header.
        let title = MessageTemplate.builtIn(.slack).render(message).title
        if case .string(let text)? = json["text"] { #expect(text.count <= 4000 && title.hasPrefix(text.dropLast())) }
    }

    @Test(arguments: cases.map(\.0))
    func webhook(_ name: String) throws {
        let message = Self.cases.first { $0.0 == name }!.1
        let body = WebhookDestination.body(message)
        #expect(body.count < 20_000, "small payloads (docs/chat-platforms.md, \"Generic webhook\": 20 KB)")
        #expect(WebhookDestination.body(message) == body, "same message, same bytes")
    }

    @Test func slackSaysRootCauseFirstAndLinksTheStatusPage() throws {
        let body = String(decoding: SlackDestination.body(F.message(.firing, symptoms: 3)), as: UTF8.self)
        let cause = try #require(body.range(of: "*Root cause:*"))
        let symptoms = try #require(body.range(of: "*Symptoms (3)*"))
        #expect(cause.lowerBound < symptoms.lowerBound)
        #expect(body.contains("<http://127.0.0.1:9464/|status page>"))
        #expect(body.contains("*Fix:*"))
        #expect(body.contains("*Evidence*"))
        #expect(body.contains("\"color\":\"#D00000\""))
    }

    @Test func webhookCarriesItsTemplatesText() throws {
        let template = try MessageTemplate(kind: .webhook, text: "custom {{title}}\nline two\n", source: "t.mustache")
        let body = WebhookDestination.body(F.message(.firing), template: template)
        let json = try #require(JSONValue.parse(body))
        let text = try #require(json.at("data.text")?.string)
        #expect(text.hasPrefix("custom ") && text.hasSuffix("\nline two"), "\(text)")
        let huge = WebhookDestination.body(Self.cases.last!.1)
        #expect(
            (try #require(JSONValue.parse(huge)).at("data.text")?.string ?? "").count
                <= WebhookDestination.Limits.message)
    }

    @Test func unconfirmedIsSaid() {
        var message = F.message(.firing)
        message.unconfirmed = true
        #expect(String(decoding: SlackDestination.body(message), as: UTF8.self).contains("*Unconfirmed root cause:*"))
        #expect(String(decoding: WebhookDestination.body(message), as: UTF8.self).contains("\"unconfirmed\":true"))
    }
}
