import Foundation
import Notifiers
import ProbeCore
import Testing

@Suite struct AlertsConfigTests {
    static let slackURL = "https://hooks.slack.com/services/T000/B000/SeCrEtToKeN"
    static let hookURL = "https://hooks.example.com/clearml?token=SeCrEtQuErY"
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func load(_ yaml: String?, env: [String: String] = [:], files: [String: String] = [:]) throws -> AlertsConfig
    {
        let substitution = EnvironmentSubstitution(environment: env) { path in
            guard let content = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return content
        }
        return try AlertsConfig.load(yaml: yaml, file: "alerts/alerts.yaml", substitution: substitution)
    }

    @Test func zeroFileFromTheEnvironment() throws {
        let config = try Self.load(
            nil,
            env: [
                "CLEARML_PROBE_ALERT_SLACK_URL": Self.slackURL, "CLEARML_PROBE_ALERT_WEBHOOK_URL": Self.hookURL,
                "CLEARML_PROBE_ALERT_WEBHOOK_SECRET": Self.secret, "CLEARML_PROBE_GRACE": "5m",
            ])
        #expect(config.file == nil)
        #expect(config.destinations.map(\.name) == ["slack", "webhook"])
        #expect(config.destinations.map(\.redactedURL) == ["https://hooks.slack.com", "https://hooks.example.com"])
        #expect(config.policy.grace == 300)
        let webhook = try #require(config.destinations[1] as? WebhookDestination)
        #expect(webhook.secret?.exposed == Self.secret)
    }

    @Test func everyVariableWorksAsAFile() throws {
        let config = try Self.load(
            nil,
            env: [
                "CLEARML_PROBE_ALERT_WEBHOOK_URL_FILE": "/run/secrets/url",
                "CLEARML_PROBE_ALERT_WEBHOOK_SECRET_FILE": "/run/secrets/key",
                "CLEARML_PROBE_ALERT_SLACK_URL_FILE": "/run/secrets/slack",
            ],
            files: [
                "/run/secrets/url": Self.hookURL + "\n", "/run/secrets/key": Self.secret + "\n",
                "/run/secrets/slack": Self.slackURL,
            ])
        #expect(config.destinations.map(\.name) == ["slack", "webhook"])
        #expect((config.destinations[1] as? WebhookDestination)?.url.exposed == Self.hookURL)
    }

    @Test func fromTheFile() throws {
        let config = try Self.load(
            """
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
        (
            "destinations:\n  - kind: teams\n    url: https://contoso.webhook.office.com/webhookb2/SeCrEt\n",
            "alerts/alerts.yaml:3:10: destinations[0].url: teams 'teams': https://contoso.webhook.office.com is an Office 365 connector webhook, which Microsoft retired; create a Teams Workflows webhook (template \"Send webhook alerts to a channel\") and use its URL"
        ),
        (
            "destinations:\n  - kind: slak\n",
            "alerts/alerts.yaml:2:11: destinations[0].kind: 'slak' is not one of: slack, webhook, teams, discord, mattermost, googlechat, telegram, pagerduty, alertmanager"
        ),
        (
            "destinations:\n  - kind: slack\n",
            "alerts/alerts.yaml:2:5: destinations[0]: 'url' is required for a slack destination"
        ),
        (
            "destinations:\n  - kind: slack\n    url: https://hooks.slack.com/services/A/B/C\n    channel: ops\n",
            "alerts/alerts.yaml:4:5: unknown key 'channel' in destinations[0] (expected one of: kind, name, timeout, url)"
        ),
        (
            "destinations:\n  - kind: webhook\n    url: https://x.example/\n    secret: nope!\n",
            "alerts/alerts.yaml:4:13: destinations[0].secret: the signing secret must be 'whsec_' followed by base64 (24 to 64 random bytes), as Standard Webhooks shows it"
        ),
        (
            "destinations:\n  - kind: slack\n    url: ftp://hooks.slack.com/services/A/B/C\n",
            "alerts/alerts.yaml:3:10: destinations[0].url: 'ftp://hooks.slack.com/services/A/B/C' is not an http(s) URL with a host"
        ),
        (
            "routez: []\n",
            "alerts/alerts.yaml:1:1: unknown key 'routez' at the top level (expected one of: alerting, destinations, maintenance, routes, templates)"
        ),
        (
            "destinations:\n  - kind: telegram\n    bot_token: 123:abc\n",
            "alerts/alerts.yaml:2:5: destinations[0]: 'chat_id' is required"
        ),
    ])
    func fileErrorsAreLocated(yaml: String, message: String) {
        do {
            _ = try Self.load(yaml)
            Issue.record("no error for \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func everyPlatformFromTheEnvironment() throws {
        let config = try Self.load(
            nil,
            env: [
                "CLEARML_PROBE_ALERT_TEAMS_URL":
                    "https://prod-1.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=SeCrEt",
                "CLEARML_PROBE_ALERT_DISCORD_URL": "https://discord.com/api/webhooks/1/SeCrEt",
                "CLEARML_PROBE_ALERT_MATTERMOST_URL": "https://chat.example.com/hooks/SeCrEt",
                "CLEARML_PROBE_ALERT_GOOGLECHAT_URL":
                    "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=SeCrEt",
                "CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN_FILE": "/run/secrets/telegram",
                "CLEARML_PROBE_ALERT_TELEGRAM_CHAT_ID": "-100123",
                "CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY": "R0123456789ABCDEF0123456789ABCDE",
                "CLEARML_PROBE_ALERT_ALERTMANAGER_URL": "http://alertmanager:9093",
            ], files: ["/run/secrets/telegram": "123456:SeCrEt\n"])
        #expect(
            config.destinations.map(\.name) == [
                "teams", "discord", "mattermost", "googlechat", "telegram", "pagerduty", "alertmanager",
            ])
        #expect(
            config.destinations.map(\.kind) == [
                .teams, .discord, .mattermost, .googlechat, .telegram, .pagerduty, .alertmanager,
            ])
        for destination in config.destinations { #expect(!destination.redactedURL.contains("SeCrEt")) }
    }

    @Test func environmentErrorsNameTheVariable() {
        for (env, message) in [
            (
                ["CLEARML_PROBE_ALERT_TEAMS_URL": "https://outlook.office.com/webhook/SeCrEt"],
                "CLEARML_PROBE_ALERT_TEAMS_URL: teams 'teams': https://outlook.office.com is an Office 365 connector webhook, which Microsoft retired"
            ),
            (
                ["CLEARML_PROBE_ALERT_TELEGRAM_CHAT_ID": "-100123"],
                "CLEARML_PROBE_ALERT_TELEGRAM_CHAT_ID is set but CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN is not"
            ),
            (
                ["CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY": "SeCrEt"],
                "CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY: pagerduty 'pagerduty': the routing key must be"
            ),
        ] {
            do {
                _ = try Self.load(nil, env: env)
                Issue.record("no error for \(env)")
            } catch {
                #expect("\(error)".hasPrefix(message), "\(error)")
                #expect(!"\(error)".contains("SeCrEt"))
            }
        }
    }

    @Test func routesMaintenanceAndTemplatesFromTheFile() throws {
        let config = try Self.load(
            """
            destinations:
              - kind: pagerduty
                name: oncall
                routing_key: R0123456789ABCDEF0123456789ABCDE
            routes:
              default: [slack]
              rules:
                - layers: [data]
                  destinations: [oncall]
            maintenance:
              - name: backup
                reason: nightly dump
                timezone: Europe/Berlin
                weekly:
                  - days: daily
                    from: "02:00"
                    to: "03:00"
                services: [mongo]
            """, env: ["CLEARML_PROBE_ALERT_SLACK_URL": Self.slackURL])
        #expect(config.destinations.map(\.name) == ["oncall", "slack"])
        #expect(
            config.routes.destinations(
                for: AlertSubject(service: .redis, severity: .critical), all: ["oncall", "slack"]) == ["oncall"])
        #expect(
            config.routes.destinations(
                for: AlertSubject(service: .nginx, severity: .critical), all: ["oncall", "slack"]) == ["slack"])
        #expect(config.maintenance.windows.map(\.name) == ["backup"])
    }

    @Test func noSecretInAnyDescription() throws {
        let config = try Self.load(
            nil,
            env: [
                "CLEARML_PROBE_ALERT_SLACK_URL": Self.slackURL, "CLEARML_PROBE_ALERT_WEBHOOK_URL": Self.hookURL,
                "CLEARML_PROBE_ALERT_WEBHOOK_SECRET": Self.secret,
            ])
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
