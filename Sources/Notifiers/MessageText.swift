import Foundation
import ProbeCore

/// Formatting shared by destinations: times, truncation by characters, list trimming.
public enum MessageText {
    /// `2026-08-22 10:02 UTC`: one unambiguous zone for everyone in the channel.
    public static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    /// RFC 3339 with seconds, for JSON.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// At most `limit` characters, ending in `…` when cut.
    public static func truncate(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + "…"
    }

    /// Joins lines until the next would pass `limit` characters, then says how many were left out.
    public static func lines(_ items: [String], limit: Int, more: (Int) -> String = { "… and \($0) more" }) -> String {
        var out: [String] = []
        var used = 0
        for (index, item) in items.enumerated() {
            let left = items.count - index
            let tail = left > 1 ? more(left - 1).count + 1 : 0
            let cost = item.count + (out.isEmpty ? 0 : 1)
            if used + cost + tail > limit {
                let note = more(left)
                if used + note.count + 1 <= limit || out.isEmpty {
                    out.append(truncate(note, limit))
                }
                return out.joined(separator: "\n")
            }
            out.append(item)
            used += cost
        }
        return out.joined(separator: "\n")
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
