import Foundation
import ProbeCore

/// Times in ClearML replies: ISO-8601 strings with or without fractional seconds and with `Z` or an offset
/// (`2025-01-01T10:00:00.123456+00:00`), or epoch seconds.
public enum ClearMLTime {
    public static func parse(_ value: JSONValue?) -> Date? {
        switch value {
        case .number(let seconds): return Date(timeIntervalSince1970: seconds)
        case .string(let text): return parse(text)
        default: return nil
        }
    }

    public static func parse(_ text: String) -> Date? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        // Drop the fraction (any number of digits), which ISO8601DateFormatter only takes with exactly three.
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            text.removeSubrange(dot..<digits.endIndex)
        }
        if !text.hasSuffix("Z"), !text.dropFirst(10).contains("+"), !text.dropFirst(10).contains("-") { text += "Z" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { $0.addingTimeInterval(fraction) }
    }
}
