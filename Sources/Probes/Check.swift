import Foundation
import NativeClients
import ProbeCore

/// A check kind: runs once against its targets and says what it saw. It never throws: every failure is a result.
public protocol Check: Sendable {
    func run(_ context: CheckContext) async -> [CheckResult]
}

/// What a check kind makes of its config: a runnable check, or the reason it cannot run here.
public enum CheckPlan: Sendable {
    case ready(any Check)
    /// Not configured (no address, no credentials); shown under "not checked".
    case notConfigured(String)
}

/// Everything a check run gets: its deadline, its settings, the shared clients and state.
public struct CheckContext: Sendable {
    public var id: CheckID
    public var config: ProbeConfig
    public var settings: CheckSettings
    public var deadline: ContinuousClock.Instant
    public var http: HTTPClient
    public var state: ProbeState
    public var readOnly: Bool

    public init(
        id: CheckID, config: ProbeConfig, settings: CheckSettings, deadline: ContinuousClock.Instant,
        http: HTTPClient = HTTPClient(), state: ProbeState, readOnly: Bool = false
    ) {
        self.id = id
        self.config = config
        self.settings = settings
        self.deadline = deadline
        self.http = http
        self.state = state
        self.readOnly = readOnly
    }

    /// Seconds left before the deadline; a multi-step check gives each step only this.
    public var remaining: Double { deadline.secondsLeft }

    /// Redacts every configured secret (and URL userinfo) from text that came from outside.
    public func redact(_ text: String) -> String { Redact.text(text, secrets: config.secrets) }
}
