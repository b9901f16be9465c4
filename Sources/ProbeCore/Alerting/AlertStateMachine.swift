import Foundation

/// What one observation changed.
public enum CheckAlertTransition: Sendable, Equatable {
    case fired(Status)
    case severityChanged(from: Status, to: Status)
    case resolved
    case flappingStarted
    case flappingStopped
}

/// Pure transitions of `CheckAlertState`: fire after N consecutive non-OK, resolve after M consecutive OK, severity
/// follows the mildest of the last N failures (so it moves up and down only when N results agree), flapping when the
/// status changed too often within a window.
public enum AlertStateMachine {
    /// `countsForFlapping` is false for a change the key's own service did not make (a symptom following its root
    /// cause elsewhere): flapping is about the service, not about what happened around it.
    ///
    /// A change counts towards flapping only when it ends a stretch that never got confirmed: a failure shorter than
    /// `fire_after` samples, or a recovery shorter than `resolve_after`, the blips the thresholds keep quiet (and a
    /// single sample always, so that `fire_after: 1` still has flapping). An outage
    /// that fired and a recovery that resolved were each paged once and honestly (a failing check slows down, so an
    /// outage of a minute may be only three samples): a service down a minute five times in half an hour is five
    /// incidents, not noise. Only OK ↔ not OK is a change; critical ↔ unknown is the same outage seen otherwise.
    public static func observe(
        _ state: inout CheckAlertState, status: Status, at date: Date, policy: AlertPolicy,
        countsForFlapping: Bool = true
    ) -> [CheckAlertTransition] {
        var transitions: [CheckAlertTransition] = []
        if countsForFlapping, let last = state.lastStatus, (last == .ok) != (status == .ok),
            (state.streak ?? 0) < max(2, last == .ok ? policy.resolveAfter : policy.fireAfter)
        {
            state.changes.append(date)
        }
        if let last = state.lastStatus, (last == .ok) == (status == .ok) {
            state.streak = (state.streak ?? 1) + 1
        } else {
            state.streak = 1
        }
        state.changes.removeAll { date.timeIntervalSince($0) > policy.flappingWindow }
        state.lastStatus = status
        state.lastSeen = date

        if status == .ok {
            state.recentBad.removeAll()
            state.goodStreak += 1
            if state.phase == .firing, state.goodStreak >= policy.resolveAfter {
                state.phase = .ok
                state.severity = .ok
                state.failingSince = nil
                transitions.append(.resolved)
            } else if state.phase == .ok {
                state.failingSince = nil
            }
        } else {
            if state.recentBad.isEmpty, state.phase == .ok { state.failingSince = date }
            state.goodStreak = 0
            state.recentBad.append(status)
            if state.recentBad.count > policy.fireAfter {
                state.recentBad.removeFirst(state.recentBad.count - policy.fireAfter)
            }
            if state.recentBad.count >= policy.fireAfter {
                let confirmed = state.recentBad.min() ?? status
                if state.phase == .ok {
                    state.phase = .firing
                    state.severity = confirmed
                    transitions.append(.fired(confirmed))
                } else if confirmed != state.severity {
                    transitions.append(.severityChanged(from: state.severity, to: confirmed))
                    state.severity = confirmed
                }
            }
        }

        if state.flapping, (state.streak ?? 0) >= stableSamples(policy, ok: status == .ok) {
            // Stable again for long enough: a real outage after earlier noise pages, a real recovery resolves.
            state.flapping = false
            state.changes.removeAll()
            transitions.append(.flappingStopped)
        } else if !state.flapping, state.changes.count >= policy.flappingChanges {
            state.flapping = true
            transitions.append(.flappingStarted)
        } else if state.flapping, state.changes.count < policy.flappingStopsBelow {
            state.flapping = false
            transitions.append(.flappingStopped)
        }
        return transitions
    }

    /// Samples in a row on one side of OK that end flapping: twice what it takes to fire (or resolve).
    static func stableSamples(_ policy: AlertPolicy, ok: Bool) -> Int {
        2 * (ok ? policy.resolveAfter : policy.fireAfter)
    }

    /// A key not seen for a while: flapping ends as its changes age out, so a check that stopped running cannot keep
    /// an incident open forever.
    public static func age(_ state: inout CheckAlertState, at date: Date, policy: AlertPolicy) {
        state.changes.removeAll { date.timeIntervalSince($0) > policy.flappingWindow }
        if state.flapping, state.changes.count < policy.flappingStopsBelow { state.flapping = false }
    }
}
