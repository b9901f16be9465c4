import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

@Suite("Message templates")
struct TemplateTests {
    @Test("the built-in templates are the files in alerts/templates", arguments: DestinationKind.allCases)
    func embeddedMatchesFiles(_ kind: DestinationKind) throws {
        let file = try String(contentsOfFile: Repository.path(DefaultTemplates.path(for: kind)), encoding: .utf8)
        #expect(DefaultTemplates.text(for: kind) + "\n" == file, "run scripts/embed-default-templates")
        _ = MessageTemplate.builtIn(kind)
    }

    @Test func escapingPerPlatform() {
        let text = "a <b> & @here *x* _y_"
        #expect(TextEscaping.slackMrkdwn.escape(text) == "a &lt;b&gt; &amp; @here *x* _y_")
        #expect(TextEscaping.html.escape(text) == "a &lt;b&gt; &amp; @here *x* _y_")
        #expect(TextEscaping.markdown.escape(text) == "a \\<b\\> & @\u{2060}here \\*x\\* \\_y\\_")
        #expect(TextEscaping.plain.escape(text) == text)
        #expect(TextEscaping.html.plain("<b>a &lt;b&gt; &amp;</b>") == "a <b> &")
        #expect(TextEscaping.markdown.plain(TextEscaping.markdown.escape("x_y*z")) == "x_y*z")
    }

    @Test func valuesAreEscapedAndTripleBracesAreRaw() throws {
        let template = try MessageTemplate(
            kind: .telegram, text: "{{title}}\n{{{title}}}\n{{#causes}}<code>{{key}}</code>{{/causes}}",
            source: "t.mustache")
        var message = PlatformFixtures.firing
        message.title = "<i>x</i> & y"
        let rendered = template.render(message)
        #expect(rendered.title == "&lt;i&gt;x&lt;/i&gt; &amp; y")
        #expect(rendered.lines == ["<i>x</i> & y", "<code>redis.write</code><code>redis.status</code>"])
    }

    @Test func renderedTextSplitsTitleAndCollapsesBlankLines() {
        let text = RenderedText(rendered: "\n\n  Title  \n\n\nline 1   \n\n\n\nline 2\n\n")
        #expect(text.title == "  Title")
        #expect(text.lines == ["", "line 1", "", "line 2"].dropFirst().map { $0 })
    }

    @Test func aTemplateErrorNamesFileLineAndColumn() {
        do {
            _ = try MessageTemplate(
                kind: .discord, text: "{{title}}\n{{#causes}}\n  {{key}}\n{{/symptoms}}\n",
                source: "alerts/templates/discord.mustache")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "alerts/templates/discord.mustache")
            #expect(error.line == 4)
            #expect(error.description.hasPrefix("alerts/templates/discord.mustache:4:"))
            #expect(error.description.contains("closed with another name"))
        }
        do {
            _ = try MessageTemplate(kind: .discord, text: "{{title", source: "x.mustache")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 1)
            #expect(error.column <= 8)
        }
    }

    @Test func templatesSectionOverridesOneKind() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        _ = try directory.write("templates/telegram.mustache", "<b>{{event}}</b> {{title}}\nonly this\n")
        let yaml = "templates:\n  telegram: templates/telegram.mustache\n"
        let root = try ConfigMap.parse(
            yaml: yaml, file: directory.file("alerts.yaml"), substitution: PlatformFixtures.substitution)
        let set = try TemplateSet.parse(try root.section("templates"), baseDirectory: directory.path)
        #expect(set.overriddenKinds == [.telegram])
        #expect(
            set.template(for: .telegram).render(PlatformFixtures.firing)
                == RenderedText(title: "<b>FIRING</b> Redis: writes refused (MISCONF)", lines: ["only this"]))
        #expect(set.template(for: .discord).source.hasPrefix("<built-in"))

        let bad = try ConfigMap.parse(
            yaml: "templates:\n  telegramm: x.mustache\n", file: "alerts.yaml",
            substitution: PlatformFixtures.substitution)
        #expect(throws: ConfigError.self) { try TemplateSet.parse(try bad.section("templates"), baseDirectory: "") }
        do { _ = try TemplateSet.parse(try bad.section("templates"), baseDirectory: "") } catch let error as ConfigError
        {
            #expect(error.description.hasPrefix("alerts.yaml:2:3: unknown destination kind 'telegramm'"))
        }
        let missing = try ConfigMap.parse(
            yaml: "templates:\n  teams: nope.mustache\n", file: "alerts.yaml",
            substitution: PlatformFixtures.substitution)
        do {
            _ = try TemplateSet.parse(try missing.section("templates"), baseDirectory: directory.path)
            Issue.record("expected an error")
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix("alerts.yaml:2:10: templates.teams: cannot read template file"))
        }
    }
}
