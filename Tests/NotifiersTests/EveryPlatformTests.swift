import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

/// One sample of each destination kind, chosen by an exhaustive switch: a new kind does not compile until it has a
/// sample here, and then every test below runs for it.
enum PlatformSamples {
    static func destination(_ kind: DestinationKind) throws -> any Destination {
        switch kind {
        case .slack: SlackDestination(name: "slack", url: Secret("https://hooks.slack.com/services/T1/B2/XYZ"))
        case .webhook:
            try WebhookDestination(
                name: "hooks", url: Secret("https://hooks.example.com/x/WEBHOOKSECRETPATH"), secret: nil)
        case .teams: TeamsDestination(config: try TeamsConfig(url: Platforms.teamsURL))
        case .discord: DiscordDestination(config: try DiscordConfig(url: Platforms.discordURL))
        case .mattermost: MattermostDestination(config: try MattermostConfig(url: Platforms.mattermostURL))
        case .googlechat: GoogleChatDestination(config: try GoogleChatConfig(url: Platforms.googleChatURL))
        case .telegram:
            TelegramDestination(config: try TelegramConfig(botToken: Platforms.telegramToken, chatID: "-1001234567890"))
        case .pagerduty: PagerDutyDestination(config: try PagerDutyConfig(routingKey: Platforms.pagerDutyKey))
        case .alertmanager: AlertmanagerDestination(config: try AlertmanagerConfig(url: Platforms.alertmanagerURL))
        }
    }

    /// The messages of a kind's golden files. Slack's and the webhook's were recorded from the shared alert fixtures
    /// before the other platforms existed; they keep them so their goldens stay the bytes users already receive.
    static func cases(_ kind: DestinationKind) -> [(String, AlertMessage)] {
        switch kind {
        case .slack, .webhook: GoldenPayloadTests.cases
        case .teams, .discord, .mattermost, .googlechat, .telegram, .pagerduty, .alertmanager: PlatformFixtures.cases
        }
    }

    /// An environment that makes the zero-file destination of a kind.
    static func environment(_ kind: DestinationKind) -> [String: String] {
        switch kind {
        case .slack: ["CLEARML_PROBE_ALERT_SLACK_URL": "https://hooks.slack.com/services/T1/B2/XYZ"]
        case .webhook: ["CLEARML_PROBE_ALERT_WEBHOOK_URL": "https://hooks.example.com/x"]
        case .teams: ["CLEARML_PROBE_ALERT_TEAMS_URL": Platforms.teamsURL]
        case .discord: ["CLEARML_PROBE_ALERT_DISCORD_URL": Platforms.discordURL]
        case .mattermost: ["CLEARML_PROBE_ALERT_MATTERMOST_URL": Platforms.mattermostURL]
        case .googlechat: ["CLEARML_PROBE_ALERT_GOOGLECHAT_URL": Platforms.googleChatURL]
        case .telegram:
            [
                "CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN": Platforms.telegramToken,
                "CLEARML_PROBE_ALERT_TELEGRAM_CHAT_ID": "-100123",
            ]
        case .pagerduty: ["CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY": Platforms.pagerDutyKey]
        case .alertmanager: ["CLEARML_PROBE_ALERT_ALERTMANAGER_URL": Platforms.alertmanagerURL]
        }
    }
}

@Suite("Every destination kind")
struct EveryPlatformTests {
    static let now = PlatformFixtures.now

    @Test("each kind's payloads match its golden files", arguments: DestinationKind.allCases)
    func golden(_ kind: DestinationKind) throws {
        let destination = try PlatformSamples.destination(kind)
        #expect(destination.kind == kind)
        for (name, message) in PlatformSamples.cases(kind) {
            let request = try destination.request(for: message, now: Self.now)
            #expect(request.body.json != nil, "\(kind)/\(name): body is not JSON")
            if let difference = Golden.check(
                Golden.pretty(request.body), "Tests/NotifiersTests/Golden/\(kind.rawValue)/\(name).json")
            {
                Issue.record("\(difference)")
            }
            #expect(
                try destination.request(for: message, now: Self.now).body == request.body, "same message, same bytes")
        }
    }

    @Test(
        "each kind has golden files for firing, resolved, symptoms and truncated, and no others",
        arguments: DestinationKind.allCases)
    func goldenFiles(_ kind: DestinationKind) throws {
        let names = try FileManager.default.contentsOfDirectory(
            atPath: Repository.path("Tests/NotifiersTests/Golden/\(kind.rawValue)"))
        #expect(names.sorted() == ["firing.json", "resolved.json", "symptoms.json", "truncated.json"])
    }

    @Test("the Golden folder has a folder per kind and no other")
    func goldenFolders() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Repository.path("Tests/NotifiersTests/Golden"))
        #expect(names.sorted() == DestinationKind.allCases.map(\.rawValue).sorted())
    }

    @Test("a missing golden file fails instead of being recorded")
    func missingGoldenFails() throws {
        guard !Golden.recording else { return }  // recording on purpose: nothing to prove
        let path = "Tests/NotifiersTests/Golden/slack/no-such-case.json"
        let difference = Golden.check(Data("{}".utf8), path)
        #expect(difference?.contains("is missing") == true, "\(difference ?? "passed")")
        #expect(difference?.contains(Golden.recordVariable) == true)
        #expect(!FileManager.default.fileExists(atPath: Repository.path(path)), "nothing was recorded")
    }

    /// (status, headers, expected) that every platform judges alike: docs/chat-platforms.md, "Answers".
    static let sharedAnswers: [(Int?, [String: String], String)] = [
        (nil, [:], "retry"),
        (500, [:], "retry"),
        (502, [:], "retry"),
        (503, ["Retry-After": "7"], "retry:7"),
        (408, [:], "retry"),
        (429, ["Retry-After": "7"], "retry:7"),
        (429, ["retry-after": "999999"], "retry:86400"),
        (429, ["Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"], "retry:86400"),
        (503, ["Retry-After": "Sat, 22 Aug 2026 10:05:01 GMT"], "retry:0"),
        (301, ["Location": "https://elsewhere.example"], "permanent"),
        (307, [:], "permanent"),
        (400, [:], "permanent"),
        (403, [:], "permanent"),
    ]

    static func outcome(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered: "delivered"
        case .retry(let after, _): after.map { "retry:\(Int($0.rounded()))" } ?? "retry"
        case .permanent: "permanent"
        }
    }

    @Test("every kind judges the shared answer classes alike", arguments: DestinationKind.allCases)
    func sharedAnswerClasses(_ kind: DestinationKind) throws {
        let destination = try PlatformSamples.destination(kind)
        for (status, headers, expected) in Self.sharedAnswers {
            let response = DeliveryResponse(
                status: status, headers: headers, body: "", transportError: status == nil ? "connection refused" : nil)
            let got = Self.outcome(destination.classify(response))
            #expect(
                got == expected,
                "\(kind) \(status.map(String.init) ?? "no answer") \(headers) → \(got), expected \(expected)")
        }
    }

    @Test(
        "every kind is made from its environment variables, named after its kind", arguments: DestinationKind.allCases)
    func environment(_ kind: DestinationKind) throws {
        let platform = kind.platform
        #expect(platform.kind == kind)
        #expect(!platform.environmentVariables.isEmpty)
        #expect(platform.environmentVariables.allSatisfy { $0.hasPrefix("CLEARML_PROBE_ALERT_") })
        #expect(DestinationFactory.environmentVariable(kind) == platform.environmentVariables[0])
        let environment = PlatformSamples.environment(kind)
        #expect(
            Set(environment.keys).isSubset(of: platform.environmentVariables),
            "the sample uses only the kind's variables")
        let destination = try #require(
            try DestinationFactory.fromEnvironment(kind, EnvironmentSubstitution(environment: environment)))
        #expect(destination.kind == kind)
        #expect(destination.name == kind.rawValue)
        #expect(try DestinationFactory.fromEnvironment(kind, EnvironmentSubstitution(environment: [:])) == nil)
        // The main variable set to something that is not a usable value is an error naming it, not its value.
        var broken = environment
        broken[platform.environmentVariables[0]] = "ftp://host.example/SeCrEt"
        do {
            _ = try DestinationFactory.fromEnvironment(kind, EnvironmentSubstitution(environment: broken))
            Issue.record("\(kind): a broken \(platform.environmentVariables[0]) was accepted")
        } catch {
            #expect("\(error)".contains(platform.environmentVariables[0]), "\(error)")
            #expect(!"\(error)".contains("SeCrEt"), "\(error)")
        }
    }

    @Test("each kind's pace and escaping come from its platform", arguments: DestinationKind.allCases)
    func paceAndEscaping(_ kind: DestinationKind) throws {
        #expect(RateLimit.platformDefault(kind) == kind.platform.pace)
        #expect(TextEscaping.for(kind) == kind.platform.escaping)
        #expect(MessageTemplate.builtIn(kind).kind == kind)
    }

    @Test("compose passes through exactly the alert variables the platforms read")
    func composeVariables() throws {
        let compose = try String(contentsOfFile: Repository.path("compose/compose.yaml"), encoding: .utf8)
        let passed = Set(
            compose.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("CLEARML_PROBE_ALERT_"), let colon = trimmed.firstIndex(of: ":") else {
                    return nil
                }
                return String(trimmed[..<colon])
            })
        let read = Set(DestinationKind.allCases.flatMap { $0.platform.environmentVariables })
        #expect(
            passed == read,
            "compose/compose.yaml: missing \(read.subtracting(passed).sorted()), extra \(passed.subtracting(read).sorted())"
        )
    }

    @Test("alerts/templates has one template per kind and no other")
    func templateFiles() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Repository.path("alerts/templates")).filter {
            $0.hasSuffix(".mustache")
        }
        #expect(names.sorted() == DestinationKind.allCases.map { "\($0.rawValue).mustache" }.sorted())
    }
}
