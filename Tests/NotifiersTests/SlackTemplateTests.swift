import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

/// Slack's text comes from the `slack` template, so `templates: {slack: …}` in alerts.yaml changes it.
@Suite struct SlackTemplateTests {
    static let url = "https://hooks.slack.com/services/T1/B2/SLACKSECRET"
    static let custom = "{{event}} on {{instance}}: {{title}}\nWhy: {{summary}}\n\nRaw: {{{summary}}}\n"

    static func message() -> AlertMessage {
        var message = PlatformFixtures.firing
        message.summary = "Redis says <!channel> & refuses writes"
        return message
    }

    static func texts(_ body: Data) throws -> (text: String, header: String, sections: [String]) {
        let json = try #require(JSONValue.parse(body))
        let blocks = try #require(json.at("attachments")?.array?.first?["blocks"]?.array)
        let sections = blocks.filter { $0["type"]?.string == "section" }.compactMap { $0.at("text.text")?.string }
        return (json["text"]?.string ?? "", blocks.first?.at("text.text")?.string ?? "", sections)
    }

    @Test func anOverrideInAlertsYamlShapesTheSlackMessageWithMrkdwnEscaping() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        _ = try directory.write("templates/my-slack.mustache", Self.custom)
        let yaml = """
            templates:
              slack: templates/my-slack.mustache
            destinations:
              - kind: slack
                name: ops
                url: \(Self.url)
            """
        let config = try AlertsConfig.load(
            yaml: yaml, file: directory.file("alerts.yaml"), substitution: PlatformFixtures.substitution)
        let slack = try #require(config.destinations.first as? SlackDestination)
        let request = try slack.request(for: Self.message(), now: PlatformFixtures.now)
        let (text, header, sections) = try Self.texts(request.body)
        #expect(text == "FIRING on prod: Redis: writes refused (MISCONF)")
        #expect(header == text, "the header is the title as plain text")
        #expect(
            sections.first == "Why: Redis says &lt;!channel&gt; &amp; refuses writes",
            "check output cannot ping the channel")
        #expect(
            sections.dropFirst().first == "Raw: Redis says <!channel> & refuses writes",
            "triple braces are raw, as the template author asked")
        #expect(!sections.contains { $0.contains("*Root cause:*") }, "the built-in text is not used")
    }

    @Test func theZeroFileSlackDestinationUsesTheOverrideToo() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        _ = try directory.write("templates/my-slack.mustache", Self.custom)
        let substitution = EnvironmentSubstitution(environment: ["CLEARML_PROBE_ALERT_SLACK_URL": Self.url])
        let config = try AlertsConfig.load(
            yaml: "templates:\n  slack: templates/my-slack.mustache\n", file: directory.file("alerts.yaml"),
            substitution: substitution)
        let slack = try #require(config.destinations.first as? SlackDestination)
        let (text, _, _) = try Self.texts(try slack.request(for: Self.message(), now: PlatformFixtures.now).body)
        #expect(text.hasPrefix("FIRING on prod:"))
    }

    @Test func theBuiltInTemplateSaysRootCauseFirstWithEvidenceAndFix() throws {
        let (text, header, sections) = try Self.texts(SlackDestination.body(Self.message()))
        #expect(text.hasPrefix("🔴 FIRING: Redis: writes refused (MISCONF)"))
        #expect(header == text)
        #expect(
            sections.first?.hasPrefix("*Root cause:* Redis — Redis says &lt;!channel&gt; &amp; refuses writes") == true)
        #expect(sections.contains { $0.hasPrefix("*Evidence*\n```") && $0.hasSuffix("```") })
        #expect(sections.contains { $0.hasPrefix("*Fix:* ") })
    }
}
