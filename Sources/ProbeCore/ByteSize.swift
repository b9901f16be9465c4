import Foundation

/// Byte sizes as Elasticsearch writes them (`500mb`, `100GB`, binary units) and as people read them.
public enum ByteSize {
    static let units: [(String, Double)] = [
        ("pb", 1_125_899_906_842_624), ("tb", 1_099_511_627_776), ("gb", 1_073_741_824),
        ("mb", 1_048_576), ("kb", 1024), ("b", 1),
    ]

    /// Bytes in `text` (`500mb`, `1.5gb`, `0b`); nil when it is not a size. `-1` is ES's "unset".
    public static func parse(_ text: String) -> Double? {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        for (unit, factor) in units where value.hasSuffix(unit) {
            let number = value.dropLast(unit.count).trimmingCharacters(in: .whitespaces)
            guard let amount = Double(number), amount >= 0 else { return nil }
            return amount * factor
        }
        return nil
    }

    /// `8.0 GB`, `300 MB`, `512 B`.
    public static func format(_ bytes: Double) -> String {
        for (unit, factor) in units where bytes >= factor && factor > 1 {
            let amount = bytes / factor
            return (amount < 10 ? DecimalText.fixed(amount, places: 1) : String(amount.rounded().saturatingInt)) + " "
                + unit.uppercased()
        }
        return "\(bytes.saturatingInt) B"
    }
}
