import Foundation

/// Reads rate-limit hints: `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// Seconds to wait, or nil when there is no usable hint. Capped at a day so a bad header cannot park a queue.
    public static func seconds(_ headers: [String: String], now: Date) -> Double? {
        guard let value = header("retry-after", in: headers)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return nil
        }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return min(seconds, 86400) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), 86400)
    }

    /// A header by name, whatever its case.
    public static func header(_ name: String, in headers: [String: String]) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }
}
