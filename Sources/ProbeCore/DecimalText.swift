import Foundation

/// Numbers written with a fixed count of decimals (`%.1f`) or in their shortest form (`%g` for thresholds people
/// typed), without `String(format:)`, whose CoreFoundation formatting path is far larger than a check summary needs.
public enum DecimalText {
    /// `fixed(2.25, places: 1)` → `2.2` (rounded on the exact binary value, as printf does); `nan`/`inf` as printf writes them.
    public static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let places = min(max(places, 0), 9)
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let magnitude = value.magnitude
        let product = magnitude * scale
        guard product < 9e15 else { return "\(value.rounded())" }  // beyond exact integers: never in a summary
        var scaled = product.rounded(.toNearestOrEven)
        if product - product.rounded(.down) == 0.5 {
            // The product may be a tie only after its own rounding: the exact residual says which side it was on.
            let residual = (-product).addingProduct(magnitude, scale)  // magnitude × scale − product, one rounding
            if residual > 0 { scaled = product.rounded(.up) } else if residual < 0 { scaled = product.rounded(.down) }
        }
        let units = UInt64(scaled)
        let negative = value.sign == .minus
        var digits = String(units)
        if places > 0 {
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return negative ? "-" + digits : digits
    }

    /// `80` for 80.0, `0.5` for 0.5: the number as a person would have typed it.
    public static func shortest(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), value.magnitude < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
