import Foundation

/// Writing and reading instants as text in fixed forms (RFC 3339 in UTC, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`), with
/// integer arithmetic only: `ISO8601DateFormatter` and `DateFormatter` pull ICU's calendar and locale data into the
/// resident set of a process that formats one timestamp per check run.
public enum UTCTimestamp {
    /// `2026-08-22T12:00:00Z`, or with `fractionDigits` (1…9) `2026-08-22T12:00:00.123Z` (truncated, as
    /// `ISO8601DateFormatter` does).
    public static func rfc3339(_ date: Date, fractionDigits: Int = 0) -> String {
        let (whole, nanos) = split(date)
        var text = civilText(CivilTime(secondsSince1970: whole), separator: "T", seconds: true)
        if fractionDigits > 0 {
            let digits = min(fractionDigits, 9)
            var scaled = nanos
            for _ in digits..<9 { scaled /= 10 }
            text += "." + CivilTime.pad(Int(scaled), digits)
        }
        return text + "Z"
    }

    /// `2026-08-22` (the UTC day).
    public static func day(_ date: Date) -> String {
        let civil = CivilTime(secondsSince1970: split(date).whole)
        return "\(CivilTime.pad(civil.year, 4))-\(CivilTime.pad(civil.month, 2))-\(CivilTime.pad(civil.day, 2))"
    }

    /// `2026-08-22 12:00` (UTC, to the minute).
    public static func minute(_ date: Date) -> String {
        civilText(CivilTime(secondsSince1970: split(date).whole), separator: " ", seconds: false)
    }

    /// RFC 3339 / ISO 8601 with a zone: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` in either case.
    /// Nil for anything else, including a time without a zone, an impossible date, or a leap second.
    public static func parseRFC3339(_ text: String) -> Date? {
        parseZoned(Array(text.utf8), separators: [UInt8(ascii: "T"), UInt8(ascii: "t")], missingZoneIsUTC: false)
    }

    /// The forms the ClearML apiserver writes (Python's `isoformat()` and MongoDB dates): RFC 3339, also with a space
    /// for the `T`, and without a zone, which is read as UTC (the apiserver keeps times in UTC). Nil for anything else.
    public static func parseServerTime(_ text: String) -> Date? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        for byte in text.utf8 {
            bytes.append(byte)
            if bytes.count > 40 { return nil }
        }
        return parseZoned(
            bytes, separators: [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")], missingZoneIsUTC: true)
    }

    static func parseZoned(_ bytes: [UInt8], separators: [UInt8], missingZoneIsUTC: Bool) -> Date? {
        guard let (civil, fraction, next) = parseCivil(bytes, separators: separators) else { return nil }
        var offset = 0
        if next == bytes.count {
            guard missingZoneIsUTC else { return nil }
        } else if (bytes[next] == UInt8(ascii: "Z") || bytes[next] == UInt8(ascii: "z")) && next + 1 == bytes.count {
            offset = 0
        } else if bytes[next] == UInt8(ascii: "+") || bytes[next] == UInt8(ascii: "-"), next + 6 == bytes.count,
            bytes[next + 3] == UInt8(ascii: ":"), let hours = number(bytes, next + 1, 2),
            let minutes = number(bytes, next + 4, 2), hours < 24, minutes < 60
        {
            offset = (hours * 3600 + minutes * 60) * (bytes[next] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        return Date(timeIntervalSince1970: Double(civil.secondsSince1970 - Int64(offset)) + fraction)
    }

    /// A wall-clock time without a zone: `YYYY-MM-DD HH:MM[:SS]` or with `T`; nil for anything else.
    public static func parseLocal(_ text: String) -> CivilTime? {
        let bytes = Array(text.utf8)
        guard
            let (civil, fraction, next) = parseCivil(
                bytes, separators: [UInt8(ascii: " "), UInt8(ascii: "T")], secondsOptional: true),
            fraction == 0, next == bytes.count
        else { return nil }
        return civil
    }

    // MARK: - Pieces

    static func split(_ date: Date) -> (whole: Int64, nanos: Int64) {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e15 else { return (0, 0) }
        let whole = seconds.rounded(.down)
        var nanos = Int64(((seconds - whole) * 1e9).rounded(.down))
        nanos = min(max(nanos, 0), 999_999_999)
        return (Int64(whole), nanos)
    }

    static func civilText(_ civil: CivilTime, separator: Character, seconds: Bool) -> String {
        var text = "\(CivilTime.pad(civil.year, 4))-\(CivilTime.pad(civil.month, 2))-\(CivilTime.pad(civil.day, 2))"
        text += "\(separator)\(CivilTime.pad(civil.hour, 2)):\(CivilTime.pad(civil.minute, 2))"
        if seconds { text += ":" + CivilTime.pad(civil.second, 2) }
        return text
    }

    static func number(_ bytes: [UInt8], _ from: Int, _ count: Int) -> Int? {
        guard from >= 0, from + count <= bytes.count else { return nil }
        var value = 0
        for index in from..<from + count {
            let byte = bytes[index]
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// `YYYY-MM-DD<sep>HH:MM[:SS[.fraction]]` at the start of `bytes`; returns the index after it.
    static func parseCivil(_ bytes: [UInt8], separators: [UInt8], secondsOptional: Bool = false) -> (
        CivilTime, Double, Int
    )? {
        guard bytes.count >= 16, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            separators.contains(bytes[10]),
            bytes[13] == UInt8(ascii: ":"), let year = number(bytes, 0, 4), let month = number(bytes, 5, 2),
            let day = number(bytes, 8, 2), let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2)
        else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard let value = number(bytes, index + 1, 2) else { return nil }
            second = value
            index += 3
        } else if !secondsOptional {
            return nil
        }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            index += 1
            let start = index
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard civil.isValid else { return nil }
        return (civil, fraction, index)
    }
}
