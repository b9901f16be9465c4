import Foundation
import ProbeCore

/// The one place that turns a `DestinationKind` into a destination, from `alerts/alerts.yaml` or from the environment
/// (design.md, zero-file destinations). The switches are exhaustive: a new kind is one case here and one file.
public enum DestinationFactory {
    /// A configuration problem that has no file position (it came from the environment).
    public struct EnvironmentError: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// One entry of `destinations:` (its `kind` and `name` already read).
    public static func make(kind: DestinationKind, name: String, options: ConfigMap, templates: TemplateSet = .builtIn) throws -> any Destination {
        switch kind {
        case .slack:
            return try SlackDestination.parse(name: name, options, template: templates.template(for: .slack))
        case .webhook:
            return try WebhookDestination.parse(name: name, options)
        case .teams, .discord, .mattermost, .googlechat, .telegram, .pagerduty, .alertmanager:
            guard let destination = try PlatformDestinations.make(kind: kind, name: name, map: options, templates: templates) else {
                throw options.error(key: "kind", "'\(kind.rawValue)' destinations cannot be built")
            }
            return destination
        }
    }

    /// The variable whose presence makes a zero-file destination of this kind.
    public static func environmentVariable(_ kind: DestinationKind) -> String {
        switch kind {
        case .slack: "CLEARML_PROBE_ALERT_SLACK_URL"
        case .webhook: "CLEARML_PROBE_ALERT_WEBHOOK_URL"
        case .teams: "CLEARML_PROBE_ALERT_TEAMS_URL"
        case .discord: "CLEARML_PROBE_ALERT_DISCORD_URL"
        case .mattermost: "CLEARML_PROBE_ALERT_MATTERMOST_URL"
        case .googlechat: "CLEARML_PROBE_ALERT_GOOGLECHAT_URL"
        case .telegram: "CLEARML_PROBE_ALERT_TELEGRAM_BOT_TOKEN"
        case .pagerduty: "CLEARML_PROBE_ALERT_PAGERDUTY_ROUTING_KEY"
        case .alertmanager: "CLEARML_PROBE_ALERT_ALERTMANAGER_URL"
        }
    }

    /// The destination the environment defines for `kind` (named after the kind), or nil when its variable is unset.
    /// Every variable also works as `NAME_FILE`.
    public static func fromEnvironment(_ kind: DestinationKind, _ environment: EnvironmentSubstitution,
                                       templates: TemplateSet = .builtIn) throws -> (any Destination)? {
        if PlatformDestinations.kinds.contains(kind) {
            do {
                return try PlatformDestinations.fromEnvironment(kind, environment, templates: templates)
            } catch {
                throw EnvironmentError(error.description)
            }
        }
        let variable = environmentVariable(kind)
        guard let value = try read(variable, environment) else { return nil }
        switch kind {
        case .slack:
            return SlackDestination(name: kind.rawValue, url: try url(variable, value), template: templates.template(for: .slack))
        case .webhook:
            let secretVariable = "CLEARML_PROBE_ALERT_WEBHOOK_SECRET"
            let secret = try read(secretVariable, environment).map(Secret.init)
            do {
                return try WebhookDestination(name: kind.rawValue, url: try url(variable, value), secret: secret)
            } catch let error as StandardWebhooks.InvalidSecret {
                throw EnvironmentError("\(secretVariable): \(error.description)")
            }
        case .teams, .discord, .mattermost, .googlechat, .telegram, .pagerduty, .alertmanager:
            return nil // built above
        }
    }

    static func read(_ variable: String, _ environment: EnvironmentSubstitution) throws -> String? {
        do {
            guard let value = try environment.value(of: variable)?.trimmingCharacters(in: .whitespacesAndNewlines),
                  !value.isEmpty else { return nil }
            return value
        } catch {
            throw EnvironmentError(error.description)
        }
    }

    static func url(_ variable: String, _ value: String) throws -> Secret {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw EnvironmentError("\(variable): '\(Redact.url(value))' is not an http(s) URL with a host")
        }
        return Secret(value)
    }
}
