import Foundation

/// Parses and prints durations such as `250ms`, `2s`, `1.5s`, `10m`, `4h`, `1h30m`.
public enum Durations {
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a duration (use a number with a unit: 250ms, 2s, 10m, 4h, 1d)"
        }
    }

    /// Seconds in `text`; a bare number is refused so a missing unit is never guessed.
    public static func seconds(_ text: String) throws(ParseError) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ParseError(text: text) }
        var total = 0.0
        var number = ""
        var unit = ""
        var parts = 0
        func flush() throws(ParseError) {
            guard let value = Double(number), value >= 0, value.isFinite else { throw ParseError(text: text) }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            default: throw ParseError(text: text)
            }
            total += value * factor
            parts += 1
            number = ""
            unit = ""
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { throw ParseError(text: text) }
                unit.append(character)
            } else {
                throw ParseError(text: text)
            }
        }
        guard !number.isEmpty, !unit.isEmpty else { throw ParseError(text: text) }
        try flush()
        return total
    }

    /// A short human form: `850 ms`, `2.1 s`, `5 min`, `4 h`.
    public static func format(seconds: Double) -> String {
        if seconds < 1 { return "\((seconds * 1000).rounded().saturatingInt) ms" }
        if seconds < 60 { return DecimalText.fixed(seconds, places: 1) + " s" }
        if seconds < 3600 { return "\((seconds / 60).rounded().saturatingInt) min" }
        if seconds < 172_800 {
            return (DecimalText.fixed(seconds / 3600, places: 1) + " h").replacingOccurrences(of: ".0 h", with: " h")
        }
        return "\((seconds / 86400).rounded().saturatingInt) d"
    }
}
