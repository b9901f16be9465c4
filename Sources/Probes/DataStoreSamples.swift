import Foundation
import ProbeCore

/// Judging counters and uptimes of a data store by their change since the previous sample (docs/data-stores.md: counters
/// need a previous sample; without one they are reported unjudged).
extension ProbeState {
    /// How much a counter grew since the previous sample; nil without a previous sample or when it went down
    /// (the server restarted and its counters started again).
    public func counterIncrease(_ key: String, value: Double) -> Double? {
        guard let previous = exchangeSample(key, value: value) else { return nil }
        return value >= previous.value ? value - previous.value : nil
    }

    /// True when an uptime is lower than the previous sample's: the server restarted in between.
    public func restarted(_ key: String, uptimeSeconds: Double) -> Bool {
        guard let previous = exchangeSample(key, value: uptimeSeconds) else { return false }
        return uptimeSeconds + 1 < previous.value
    }
}

/// Uptime in words: `3 d`, `5.0 h`.
enum Uptime {
    static func words(_ seconds: Double) -> String { Durations.format(seconds: seconds) }
}
