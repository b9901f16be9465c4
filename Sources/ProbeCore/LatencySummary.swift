/// p50, p99 and max of a sample of round-trip times (nearest-rank percentiles, as redis-cli and most exporters).
public struct LatencySummary: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var max: Double
    public var min: Double
    public var mean: Double

    /// nil for an empty sample.
    public init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.percentile(sorted, 50)
        p99 = Self.percentile(sorted, 99)
        max = sorted[sorted.count - 1]
        min = sorted[0]
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }

    /// Nearest rank: the smallest value with at least `percent` % of the sample at or below it.
    public static func percentile(_ sorted: [Double], _ percent: Double) -> Double {
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }
}
