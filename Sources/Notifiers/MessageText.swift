import Foundation
import ProbeCore

/// Wording shared by destinations: times (UTC, by `UTCTime`), durations, event labels. Cutting text is `Truncation`.
public enum MessageText {
    /// `2026-08-22 10:02 UTC`: one unambiguous zone for everyone in the channel.
    public static func time(_ date: Date) -> String { UTCTime(date).human }

    /// RFC 3339 UTC with seconds (`2026-08-22T10:02:00Z`), for JSON.
    public static func timestamp(_ date: Date) -> String { UTCTime(date).rfc3339 }

    /// `1h 12m`, `45s`.
    public static func duration(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded()))
        let days = total / 86400
        let hours = total % 86400 / 3600
        let minutes = total % 3600 / 60
        let secs = total % 60
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(secs)s"
    }

    /// The label before a message's title.
    public static func label(_ event: AlertMessage.Event) -> String {
        switch event {
        case .firing: "FIRING"
        case .resolved: "RESOLVED"
        case .reminder: "STILL FIRING"
        case .flapping: "FLAPPING"
        case .test: "TEST"
        }
    }

    /// "Root cause" or "Unconfirmed root cause", for the line that leads a message.
    public static func causeLabel(_ message: AlertMessage) -> String {
        message.unconfirmed ? "Unconfirmed root cause" : "Root cause"
    }
}
