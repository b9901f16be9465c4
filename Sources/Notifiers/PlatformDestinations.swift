import Foundation
import ProbeCore

/// Building the chat and incident platforms of issue 7 (Teams, Discord, Mattermost, Google Chat, Telegram,
/// PagerDuty, Alertmanager): from the environment with no file, and from `destinations:` entries. The destination
/// factory's switch over `DestinationKind` calls `make(kind:…)` for these kinds.
public enum PlatformDestinations {
    /// The kinds built here.
    public static let kinds: [DestinationKind] = [.teams, .discord, .mattermost, .googlechat, .telegram, .pagerduty, .alertmanager]

    /// Every destination of these kinds whose variables are set (`CLEARML_PROBE_ALERT_TEAMS_URL`, …; `*_FILE`
    /// variants through the substitution), each named after its kind. Errors name the variable, never its value.
    public static func fromEnvironment(_ substitution: EnvironmentSubstitution,
                                       templates: TemplateSet = .builtIn) throws(DestinationConfigError) -> [any Destination] {
        var found: [any Destination] = []
        for kind in kinds {
            if let destination = try fromEnvironment(kind, substitution, templates: templates) { found.append(destination) }
        }
        return found
    }

    /// The destination of one kind from the environment, or nil when its variables are unset.
    public static func fromEnvironment(_ kind: DestinationKind, _ substitution: EnvironmentSubstitution,
                                       templates: TemplateSet = .builtIn) throws(DestinationConfigError) -> (any Destination)? {
        let template = templates.template(for: kind)
        switch kind {
        case .teams: return try TeamsConfig.fromEnvironment(substitution).map { TeamsDestination(config: $0, template: template) }
        case .discord: return try DiscordConfig.fromEnvironment(substitution).map { DiscordDestination(config: $0, template: template) }
        case .mattermost: return try MattermostConfig.fromEnvironment(substitution).map { MattermostDestination(config: $0, template: template) }
        case .googlechat: return try GoogleChatConfig.fromEnvironment(substitution).map { GoogleChatDestination(config: $0, template: template) }
        case .telegram: return try TelegramConfig.fromEnvironment(substitution).map { TelegramDestination(config: $0, template: template) }
        case .pagerduty: return try PagerDutyConfig.fromEnvironment(substitution).map { PagerDutyDestination(config: $0, template: template) }
        case .alertmanager: return try AlertmanagerConfig.fromEnvironment(substitution).map { AlertmanagerDestination(config: $0, template: template) }
        case .slack, .webhook: return nil
        }
    }

    /// A destination from a `destinations:` entry whose `name` and `kind` the caller has read; reads the kind's own
    /// keys and finishes the map (unknown keys are errors with file:line:column). nil for kinds not built here.
    public static func make(kind: DestinationKind, name: String, map: ConfigMap, templates: TemplateSet = .builtIn) throws -> (any Destination)? {
        let template = templates.template(for: kind)
        switch kind {
        case .teams: return TeamsDestination(config: try TeamsConfig.parse(map, name: name), template: template)
        case .discord: return DiscordDestination(config: try DiscordConfig.parse(map, name: name), template: template)
        case .mattermost: return MattermostDestination(config: try MattermostConfig.parse(map, name: name), template: template)
        case .googlechat: return GoogleChatDestination(config: try GoogleChatConfig.parse(map, name: name), template: template)
        case .telegram: return TelegramDestination(config: try TelegramConfig.parse(map, name: name), template: template)
        case .pagerduty: return PagerDutyDestination(config: try PagerDutyConfig.parse(map, name: name), template: template)
        case .alertmanager: return AlertmanagerDestination(config: try AlertmanagerConfig.parse(map, name: name), template: template)
        case .slack, .webhook: return nil
        }
    }
}
