import Foundation
import ProbeCore

/// Judging counters and uptimes of a data store by their change since the previous sample (design.md: counters
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

/// A finding of a status check: a status and the words for it. The worst finding decides the result.
public struct Finding: Sendable, Equatable {
    public var status: Status
    public var text: String
    public var hint: String?

    public init(_ status: Status, _ text: String, hint: String? = nil) {
        self.status = status
        self.text = text
        self.hint = hint
    }

    /// The status of the worst findings and their words (worst first), or nil when all are OK.
    public static func summarise(_ findings: [Finding]) -> (status: Status, text: String, hint: String?)? {
        let problems = findings.filter { $0.status != .ok }
        guard !problems.isEmpty else { return nil }
        let ordered = problems.enumerated().sorted { a, b in
            a.element.status != b.element.status ? a.element.status > b.element.status : a.offset < b.offset
        }.map(\.element)
        return (Status.worst(ordered.map(\.status)), ordered.map(\.text).joined(separator: "; "), ordered.first { $0.hint != nil }?.hint)
    }
}

/// Uptime in words: `3 d`, `5.0 h`.
enum Uptime {
    static func words(_ seconds: Double) -> String { Durations.format(seconds: seconds) }
}
