import Foundation

/// The words of message titles: state first, then the service, so the first line of a notification says it all.
public enum IncidentText {
    public static func condition(_ severity: Status) -> String {
        switch severity {
        case .critical: "is failing"
        case .warning: "is degraded"
        case .unknown: "cannot be checked"
        case .ok: "is OK"
        }
    }

    static func title(_ event: AlertMessage.Event, incident: IncidentState, previousSeverity: Status?, now: Date)
        -> String
    {
        let name = incident.service.displayName
        let unconfirmed = incident.unconfirmed ? " (unconfirmed root cause)" : ""
        switch event {
        case .firing:
            var title = "\(name) \(condition(incident.severity))\(unconfirmed)"
            if let previousSeverity, previousSeverity != incident.severity {
                title +=
                    previousSeverity < incident.severity
                    ? " (worse: was \(previousSeverity.rawValue))"
                    : " (better: was \(previousSeverity.rawValue))"
            }
            return title
        case .resolved:
            return "\(name) recovered"
        case .reminder:
            return
                "Still: \(name) \(condition(incident.severity)) for \(Durations.format(seconds: now.timeIntervalSince(incident.startedAt)))\(unconfirmed)"
        case .flapping:
            return "\(name) is flapping (status changing often); quiet until it is stable"
        case .test:
            return "Test message from clearml-probe"
        }
    }
}
