import Foundation

/// Everything the alert engine remembers between reports: per-key state machines and open incidents.
public struct AlertingState: Sendable, Codable, Equatable {
    public var checks: [String: CheckAlertState] = [:]
    /// Open incidents, at most one per service, in the order they opened.
    public var incidents: [IncidentState] = []

    public init() {}

    public func incident(_ service: Service) -> IncidentState? { incidents.first { $0.service == service } }
}
