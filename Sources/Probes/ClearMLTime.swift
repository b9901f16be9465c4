import Foundation
import ProbeCore

/// Times in ClearML replies: ISO-8601 strings with or without fractional seconds and with `Z` or an offset
/// (`2025-01-01T10:00:00.123456+00:00`), or epoch seconds. The apiserver's own form is read byte by byte by
/// `UTCTimestamp.parseServerTime` (a fleet's reply has tens of thousands of them); the rest (surrounding blanks,
/// epoch seconds in a string) takes the slower path.
public enum ClearMLTime {
    public static func parse(_ value: JSONValue?) -> Date? {
        switch value {
        case .number(let seconds): return Date(timeIntervalSince1970: seconds)
        case .string(let text): return parse(text)
        default: return nil
        }
    }

    public static func parse(_ text: String) -> Date? {
        if let date = UTCTimestamp.parseServerTime(text) { return date }
        var text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        if !text.hasSuffix("Z"), !text.hasSuffix("z"), !text.dropFirst(10).contains("+"),
            !text.dropFirst(10).contains("-")
        {
            text += "Z"
        }
        return UTCTimestamp.parseRFC3339(text)
    }
}
