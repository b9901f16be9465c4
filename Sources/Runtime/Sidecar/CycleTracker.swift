import ProbeCore

/// Counts complete cycles: a cycle is complete when every check at its normal cadence has run once since the
/// previous one. A check in backoff does not hold a cycle up (it is deliberately slower), unless every check is in
/// backoff, when the cycle waits for all of them. Pure.
public struct CycleTracker: Sendable, Equatable {
    public let checks: Set<CheckID>
    public private(set) var pending: Set<CheckID>
    public private(set) var backingOff: Set<CheckID> = []
    public private(set) var completed: Int = 0

    public init(checks: some Sequence<CheckID>) {
        self.checks = Set(checks)
        self.pending = self.checks
    }

    /// Records a finished run; true when it completed a cycle.
    public mutating func record(_ id: CheckID, backingOff isBackingOff: Bool) -> Bool {
        guard checks.contains(id) else { return false }
        if isBackingOff { backingOff.insert(id) } else { backingOff.remove(id) }
        pending.remove(id)
        // A check that went into backoff no longer holds up the current cycle either.
        if pending.isSubset(of: backingOff), backingOff != checks { pending.removeAll() }
        guard pending.isEmpty else { return false }
        completed += 1
        let normal = checks.subtracting(backingOff)
        pending = normal.isEmpty ? checks : normal
        return true
    }
}
