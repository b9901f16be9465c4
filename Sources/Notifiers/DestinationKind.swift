/// Every destination kind. A new platform adds a case here and one arm to `platform`; everything else about a kind
/// (its template, escaping, pace, environment variables, config keys, payload and answers) is read from there.
public enum DestinationKind: String, Sendable, Codable, CaseIterable {
    case slack, webhook, teams, discord, mattermost, googlechat, telegram, pagerduty, alertmanager

    /// The one switch over the kinds: the type that describes and builds destinations of this kind.
    public var platform: any Platform.Type {
        switch self {
        case .slack: SlackDestination.self
        case .webhook: WebhookDestination.self
        case .teams: TeamsDestination.self
        case .discord: DiscordDestination.self
        case .mattermost: MattermostDestination.self
        case .googlechat: GoogleChatDestination.self
        case .telegram: TelegramDestination.self
        case .pagerduty: PagerDutyDestination.self
        case .alertmanager: AlertmanagerDestination.self
        }
    }
}
