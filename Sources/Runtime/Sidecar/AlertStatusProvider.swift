import Foundation
import ProbeCore

/// The alerting pipeline's state as the sidecar shows it (`/metrics`, `/status`, the status page): counts, plus the
/// pipeline's own status document (incidents, outbox, dead letters; already redacted) for `/status`.
public struct AlertSummary: Sendable, Equatable {
    public var openIncidents: Int
    public var outboxDepth: Int
    public var deadLetters: Int
    /// Added to `/status`'s `alerts` object as they are.
    public var details: [String: JSONValue]

    public init(openIncidents: Int = 0, outboxDepth: Int = 0, deadLetters: Int = 0, details: [String: JSONValue] = [:])
    {
        self.openIncidents = openIncidents
        self.outboxDepth = outboxDepth
        self.deadLetters = deadLetters
        self.details = details
    }

    public init(_ status: AlertStatus) {
        self.init(
            openIncidents: status.incidents.count, outboxDepth: status.outbox.count,
            deadLetters: status.deadLetters.count,
            details: JSONValue.parse(status.json())?.object ?? [:])
    }
}

/// Implemented by the alerting pipeline; asked after every run, never on an HTTP request.
public protocol AlertStatusProvider: Sendable {
    func alertStatus() async -> AlertStatus
}

extension AlertPipeline: AlertStatusProvider {
    public func alertStatus() async -> AlertStatus { status() }
}
