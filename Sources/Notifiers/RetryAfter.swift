import Foundation

/// Reads rate-limit hints: `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3), and any platform's own hint
/// (Discord's and Telegram's `retry_after`), all under one cap.
public enum RetryAfter {
    /// The longest wait any hint may ask for: a day, so a bad header cannot park a queue.
    public static let cap: Double = 86_400

    /// Seconds to wait, or nil when there is no usable hint.
    public static func seconds(_ headers: [String: String], now: Date) -> Double? {
        guard let value = header("retry-after", in: headers)?.trimmingCharacters(in: .whitespaces), !value.isEmpty
        else {
            return nil
        }
        if let seconds = Double(value) { return seconds >= 0 ? capped(seconds) : nil }
        guard let date = httpDate(value) else { return nil }
        return capped(date.timeIntervalSince(now))
    }

    /// A hint in seconds within 0…`cap`; nil when it is not a finite number.
    public static func capped(_ seconds: Double?) -> Double? {
        guard let seconds, seconds.isFinite else { return nil }
        return min(max(0, seconds), cap)
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 tells senders to use), parsed by hand.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), ["GMT", "UTC"].contains(parts[5]),
            let day = Int(parts[1]), parts[1].count == 2,
            let month = UTCTime.monthNames.firstIndex(where: { $0.lowercased() == parts[2].lowercased() }),
            let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2])
        else { return nil }
        return UTCTime(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second).date
    }

    /// A header by name, whatever its case.
    public static func header(_ name: String, in headers: [String: String]) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }
}
