import ProbeCore

/// The alerting pipeline's state as the sidecar shows it (`/metrics`, `/status`, the status page).
public struct AlertStatus: Sendable, Equatable {
    public var openIncidents: Int
    public var outboxDepth: Int
    public var deadLetters: Int
    /// Free-form detail added to `/status`'s `alerts` object (open incidents, dead letters), already redacted.
    public var details: [String: JSONValue]

    public init(openIncidents: Int = 0, outboxDepth: Int = 0, deadLetters: Int = 0, details: [String: JSONValue] = [:]) {
        self.openIncidents = openIncidents
        self.outboxDepth = outboxDepth
        self.deadLetters = deadLetters
        self.details = details
    }
}

/// Implemented by the alerting pipeline; asked after every run, never on an HTTP request.
public protocol AlertStatusProvider: Sendable {
    func alertStatus() async -> AlertStatus
}
