import Foundation

/// One open incident: one root-cause service, its failing checks and the symptoms above it, and what was said about
/// it so far. Codable: it lives in the state directory, so a restart neither re-fires nor forgets to resolve it.
public struct IncidentState: Sendable, Codable, Equatable {
    public var service: Service
    /// `<instance>/<service>/<start epoch>`: a new incident of the same service gets a new id.
    public var incidentID: String
    public var startedAt: Date
    public var severity: Status
    public var unconfirmed: Bool
    public var flapping: Bool
    public var summary: String
    public var hint: String?
    public var evidence: String?
    public var causes: [AlertMessage.Line]
    public var symptoms: [AlertMessage.Line]

    /// A firing or flapping message went out: this incident must get a RESOLVED ("if we notified, we resolve").
    public var notified: Bool = false
    /// The severity the last firing message announced; nil before one, and after a flapping notice.
    public var notifiedSeverity: Status?
    public var lastNotifiedAt: Date?
    public var remindersSent: Int = 0
    public var flappingNotified: Bool = false
    /// Messages made for this incident so far: numbers each message's stable id.
    public var messageCount: Int = 0

    public init(service: Service, incidentID: String, startedAt: Date, severity: Status) {
        self.service = service
        self.incidentID = incidentID
        self.startedAt = startedAt
        self.severity = severity
        self.unconfirmed = false
        self.flapping = false
        self.summary = ""
        self.causes = []
        self.symptoms = []
    }
}
