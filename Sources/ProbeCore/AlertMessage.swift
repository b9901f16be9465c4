import Foundation

/// What a destination is asked to say: one incident (one root-cause service), in one of its life events.
/// Built by the alerting engine; rendered by each destination's pure payload builder.
public struct AlertMessage: Sendable, Codable, Equatable {
    public enum Event: String, Sendable, Codable, CaseIterable {
        case firing, resolved, reminder, flapping, test
    }

    /// Stable per message across retries and restarts (webhook-id, Alertmanager/PagerDuty dedup, Google Chat thread).
    public var messageID: String
    /// Stable per incident: `<instance>/<service>` plus the incident's start, so a new incident gets a new id.
    public var incidentID: String
    public var event: Event
    public var severity: Status
    /// The root-cause service and its layer.
    public var service: Service
    /// "MongoDB is down", "Redis: writes refused (MISCONF)".
    public var title: String
    /// The root cause's one-line summary.
    public var summary: String
    public var hint: String?
    /// Bounded evidence of the root cause.
    public var evidence: String?
    /// The failing checks of the root-cause service (keys and summaries).
    public var causes: [Line]
    /// Symptoms above it, listed inside the same message.
    public var symptoms: [Line]
    /// True when some dependency of the root cause could not be checked.
    public var unconfirmed: Bool
    public var startedAt: Date
    public var resolvedAt: Date?
    /// When this message was created (not sent).
    public var createdAt: Date
    /// The sidecar's status page, when configured.
    public var statusURL: String?
    /// The probe instance, to tell several stacks apart.
    public var instance: String

    public struct Line: Sendable, Codable, Equatable {
        public var key: String
        public var status: Status
        public var summary: String

        public init(key: String, status: Status, summary: String) {
            self.key = key
            self.status = status
            self.summary = summary
        }
    }

    public init(
        messageID: String, incidentID: String, event: Event, severity: Status, service: Service, title: String,
        summary: String, hint: String? = nil, evidence: String? = nil, causes: [Line] = [], symptoms: [Line] = [],
        unconfirmed: Bool = false, startedAt: Date, resolvedAt: Date? = nil, createdAt: Date,
        statusURL: String? = nil, instance: String
    ) {
        self.messageID = messageID
        self.incidentID = incidentID
        self.event = event
        self.severity = severity
        self.service = service
        self.title = title
        self.summary = summary
        self.hint = hint
        self.evidence = evidence
        self.causes = causes
        self.symptoms = symptoms
        self.unconfirmed = unconfirmed
        self.startedAt = startedAt
        self.resolvedAt = resolvedAt
        self.createdAt = createdAt
        self.statusURL = statusURL
        self.instance = instance
    }
}
