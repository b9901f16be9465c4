import Foundation
import Notifiers
import ProbeCore
import Testing

@Suite struct AlertsConfigTests {
    static let slackURL = "https://hooks.slack.com/services/T000/B000/SeCrEtToKeN"
    static let hookURL = "https://hooks.example.com/clearml?token=SeCrEtQuErY"
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func load(_ yaml: String?, env: [String: String] = [:], files: [String: String] = [:]) throws -> AlertsConfig {
        let substitution = EnvironmentSubstitution(environment: env) { path in
            guard let content = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return content
        }
        return try AlertsConfig.load(yaml: yaml, file: "alerts/alerts.yaml", substitution: substitution)
    }

    @Test func zeroFileFromTheEnvironment() throws {
        let config = try Self.load(nil, env: ["CLEARML_PROBE_ALERT_SLACK_URL": Self.slackURL, "CLEARML_PROBE_ALERT_WEBHOOK_URL": Self.hookURL,
                                              "CLEARML_PROBE_ALERT_WEBHOOK_SECRET": Self.secret, "CLEARML_PROBE_GRACE": "5m"])
        #expect(config.file == nil)
        #expect(config.destinations.map(\.name) == ["slack", "webhook"])
        #expect(config.destinations.map(\.redactedURL) == ["https://hooks.slack.com", "https://hooks.example.com"])
        #expect(config.policy.grace == 300)
        let webhook = try #require(config.destinations[1] as? WebhookDestination)
        #expect(webhook.secret?.exposed == Self.secret)
    }

    @Test func everyVariableWorksAsAFile() throws {
        let config = try Self.load(nil, env: ["CLEARML_PROBE_ALERT_WEBHOOK_URL_FILE": "/run/secrets/url",
                                              "CLEARML_PROBE_ALERT_WEBHOOK_SECRET_FILE": "/run/secrets/key",
                                              "CLEARML_PROBE_ALERT_SLACK_URL_FILE": "/run/secrets/slack"],
                                   files: ["/run/secrets/url": Self.hookURL + "\n", "/run/secrets/key": Self.secret + "\n", "/run/secrets/slack": Self.slackURL])
        #expect(config.destinations.map(\.name) == ["slack", "webhook"])
        #expect((config.destinations[1] as? WebhookDestination)?.url.exposed == Self.hookURL)
    }

    @Test func fromTheFile() throws {
        let config = try Self.load("""
        alerting:
          grace: 1m
        destinations:
          - kind: slack
            name: ops
            url: ${OPS_SLACK}
          - kind: webhook
            name: incidents
            url: \(Self.hookURL)
            secret: ${HOOK_SECRET}
            timeout: 5s
        """, env: ["OPS_SLACK": Self.slackURL, "HOOK_SECRET": Self.secret])
        #expect(config.destinations.map(\.name) == ["ops", "incidents"])
        #expect(config.destinations.map(\.kind) == [.slack, .webhook])
        #expect(config.destinations[1].timeout == 5)
        #expect(config.policy.grace == 60)
    }

    @Test(arguments: [
        ("destinations:\n  - kind: teams\n    url: https://x.example/\n", "alerts/alerts.yaml:2:11: destinations[0].kind: 'teams' destinations are not supported yet (slack and webhook are)"),
        ("destinations:\n  - kind: slak\n", "alerts/alerts.yaml:2:11: destinations[0].kind: 'slak' is not one of: slack, webhook, teams, discord, mattermost, googlechat, telegram, pagerduty, alertmanager"),
        ("destinations:\n  - kind: slack\n", "alerts/alerts.yaml:2:5: destinations[0]: 'url' is required for a slack destination"),
        ("destinations:\n  - kind: slack\n    url: https://hooks.slack.com/services/A/B/C\n    channel: ops\n", "alerts/alerts.yaml:4:5: unknown key 'channel' in destinations[0] (expected one of: kind, name, timeout, url)"),
        ("destinations:\n  - kind: webhook\n    url: https://x.example/\n    secret: nope!\n", "alerts/alerts.yaml:4:13: destinations[0].secret: the signing secret must be 'whsec_' followed by base64 (24 to 64 random bytes), as Standard Webhooks shows it"),
        ("destinations:\n  - kind: slack\n    url: ftp://hooks.slack.com/services/A/B/C\n", "alerts/alerts.yaml:3:10: destinations[0].url: 'ftp://hooks.slack.com/services/A/B/C' is not an http(s) URL with a host"),
        ("routes: []\n", "alerts/alerts.yaml:1:1: unknown key 'routes' at the top level (expected one of: alerting, destinations)"),
    ])
    func fileErrorsAreLocated(yaml: String, message: String) {
        do {
            _ = try Self.load(yaml)
            Issue.record("no error for \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func unsupportedKindFromTheEnvironmentSaysSo() {
        do {
            _ = try Self.load(nil, env: ["CLEARML_PROBE_ALERT_TEAMS_URL": "https://x.example/"])
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "CLEARML_PROBE_ALERT_TEAMS_URL is set, but teams destinations are not supported yet (slack and webhook are)")
        }
    }

    @Test func noSecretInAnyDescription() throws {
        let config = try Self.load(nil, env: ["CLEARML_PROBE_ALERT_SLACK_URL": Self.slackURL, "CLEARML_PROBE_ALERT_WEBHOOK_URL": Self.hookURL,
                                              "CLEARML_PROBE_ALERT_WEBHOOK_SECRET": Self.secret])
        for destination in config.destinations {
            let printed = "\(destination) \(String(reflecting: destination)) \(destination.redactedURL)"
            #expect(!printed.contains("SeCrEt"), "\(printed)")
            #expect(!printed.contains("MfKQ9r8"))
        }
        do {
            _ = try Self.load(nil, env: ["CLEARML_PROBE_ALERT_SLACK_URL": "not a url SeCrEt"])
        } catch {
            #expect(!"\(error)".contains("SeCrEt"))
        }
    }
}
