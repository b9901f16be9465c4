/// Whole numbers from numbers a peer sent, for text and counts.
///
/// `Int(_:)` of a `Double` traps on NaN, on infinities and outside ±9.2e18; a reply carrying `1e300` must give a
/// result, not a crash. Values out of range are clamped to the nearest representable one, NaN becomes 0.
extension Double {
    public var saturatingInt: Int {
        guard !isNaN else { return 0 }
        if self >= 9.223372036854775e18 { return .max }
        if self <= -9.223372036854775e18 { return .min }
        return Int(self)
    }
}
