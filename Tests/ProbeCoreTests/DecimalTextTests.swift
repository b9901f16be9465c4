import Foundation
import ProbeCore
import Testing

/// Expected strings are what C's printf writes for the same double (Python's `'%.1f' % 2.25` → 2.2).
@Suite("Numbers as text without String(format:)")
struct DecimalTextTests {
    @Test(
        "fixed decimals",
        arguments: [
            (2.25, 1, "2.2"), (2.35, 1, "2.4"), (2.45, 1, "2.5"), (0.15, 1, "0.1"), (0.125, 2, "0.12"),
            (0.375, 2, "0.38"), (0.0, 1, "0.0"), (0.04, 1, "0.0"), (0.05, 2, "0.05"), (12.5, 0, "12"),
            (13.5, 0, "14"), (99.96, 1, "100.0"), (-1.25, 1, "-1.2"), (-0.01, 1, "-0.0"), (1234.5678, 3, "1234.568"),
            (0.001, 3, "0.001"), (7, 2, "7.00"), (Double.nan, 1, "nan"), (Double.infinity, 1, "inf"),
        ])
    func fixed(value: Double, places: Int, text: String) {
        #expect(DecimalText.fixed(value, places: places) == text)
    }

    @Test("shortest", arguments: [(80.0, "80"), (0.5, "0.5"), (90.25, "90.25"), (-3.0, "-3"), (0.0, "0")])
    func shortest(value: Double, text: String) {
        #expect(DecimalText.shortest(value) == text)
    }
}
