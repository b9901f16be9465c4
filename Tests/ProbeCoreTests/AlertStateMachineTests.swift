import Foundation
import ProbeCore
import Testing

/// Table tests: a sequence of statuses in, the transitions and the phase after each out.
@Suite struct AlertStateMachineTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var statuses: [Status]
        /// Transitions per step, written compactly: "" nothing, "fire:critical", "sev:warning>critical", "resolve",
        /// "flap", "stable".
        var expected: [String]
        var fireAfter = 2
        var resolveAfter = 2
        var flappingChanges = 100
        var testDescription: String { name }
    }

    static func describe(_ transitions: [CheckAlertTransition]) -> String {
        transitions.map { transition in
            switch transition {
            case .fired(let status): "fire:\(status.rawValue)"
            case .severityChanged(let from, let to): "sev:\(from.rawValue)>\(to.rawValue)"
            case .resolved: "resolve"
            case .flappingStarted: "flap"
            case .flappingStopped: "stable"
            }
        }.joined(separator: ",")
    }

    static let rows: [Row] = [
        Row(name: "one failure does not fire", statuses: [.ok, .critical, .ok, .ok], expected: ["", "", "", ""]),
        Row(
            name: "two failures fire", statuses: [.critical, .critical, .critical], expected: ["", "fire:critical", ""]),
        Row(
            name: "fires at the milder of the confirming results", statuses: [.warning, .critical],
            expected: ["", "fire:warning"]),
        Row(
            name: "escalates when N results agree", statuses: [.warning, .warning, .critical, .critical, .critical],
            expected: ["", "fire:warning", "", "sev:warning>critical", ""]),
        Row(
            name: "de-escalates when N results agree", statuses: [.critical, .critical, .warning, .warning],
            expected: ["", "fire:critical", "sev:critical>warning", ""]),
        Row(
            name: "unknown ranks between warning and critical", statuses: [.critical, .critical, .unknown, .unknown],
            expected: ["", "fire:critical", "sev:critical>unknown", ""]),
        Row(
            name: "one OK does not resolve", statuses: [.critical, .critical, .ok, .critical, .ok, .ok],
            expected: ["", "fire:critical", "", "", "", "resolve"]),
        Row(
            name: "fire_after 1 and resolve_after 3", statuses: [.critical, .ok, .ok, .ok],
            expected: ["fire:critical", "", "", "resolve"],
            fireAfter: 1, resolveAfter: 3),
        Row(
            name: "flapping after too many changes, stable when they age out",
            statuses: [.ok, .critical, .ok, .critical, .ok, .critical, .ok],
            expected: ["", "", "", "", "flap", "", ""], flappingChanges: 4),
        Row(
            name: "outages and recoveries that held are incidents, not flapping",
            statuses: [.ok, .ok, .ok, .ok] + [Status](repeating: .critical, count: 4) + [.ok, .ok, .ok, .ok]
                + [Status](repeating: .critical, count: 4) + [.ok, .ok, .ok, .ok]
                + [Status](repeating: .critical, count: 4)
                + [.ok, .ok, .ok, .ok],
            expected: ["", "", "", ""] + ["", "fire:critical", "", ""] + ["", "resolve", "", ""] + [
                "", "fire:critical", "", "",
            ]
                + ["", "resolve", "", ""] + ["", "fire:critical", "", ""] + ["", "resolve", "", ""],
            flappingChanges: 4),
        Row(
            name: "short outages that fired and recoveries that resolved are incidents (a failing check slows down)",
            statuses: Array(repeating: [Status.ok, .ok, .ok, .critical, .critical, .critical], count: 4).flatMap { $0 }
                + [.ok, .ok],
            expected: Array(repeating: ["", "resolve", "", "", "fire:critical", ""], count: 4).flatMap { $0 }
                .enumerated()
                .map { $0.offset == 1 ? "" : $0.element } + ["", "resolve"],
            flappingChanges: 4),
        Row(
            name: "blips while it fires still flap",
            statuses: [.ok, .ok, .ok, .ok, .critical, .critical, .ok, .critical, .ok, .critical, .ok, .critical],
            expected: ["", "", "", "", "", "fire:critical", "", "", "", "", "flap", ""], flappingChanges: 4),
    ]

    @Test(arguments: rows)
    func table(_ row: Row) {
        var policy = AlertPolicy()
        policy.fireAfter = row.fireAfter
        policy.resolveAfter = row.resolveAfter
        policy.flappingChanges = row.flappingChanges
        policy.flappingWindow = 3600
        var state = CheckAlertState(lastSeen: .distantPast)
        var got: [String] = []
        for (index, status) in row.statuses.enumerated() {
            got.append(
                Self.describe(
                    AlertStateMachine.observe(
                        &state, status: status, at: Date(timeIntervalSince1970: Double(index) * 30), policy: policy)))
        }
        #expect(got == row.expected)
    }

    @Test func flappingStopsWhenChangesAgeOut() {
        var policy = AlertPolicy()
        policy.flappingChanges = 4
        policy.flappingWindow = 600
        var state = CheckAlertState(lastSeen: .distantPast)
        var transitions: [String] = []
        let pattern: [Status] = [.ok, .critical, .ok, .critical, .ok]
        for (index, status) in pattern.enumerated() {
            transitions.append(
                Self.describe(
                    AlertStateMachine.observe(
                        &state, status: status, at: Date(timeIntervalSince1970: Double(index) * 30), policy: policy)))
        }
        #expect(transitions.last == "flap")
        #expect(state.isActive)
        // Quiet and OK for longer than the window: the changes age out and it is stable again.
        let later = AlertStateMachine.observe(
            &state, status: .ok, at: Date(timeIntervalSince1970: 2000), policy: policy)
        #expect(Self.describe(later) == "stable")
        #expect(!state.isActive)
    }

    @Test func failingSinceIsTheFirstFailure() {
        var state = CheckAlertState(lastSeen: .distantPast)
        let policy = AlertPolicy()
        _ = AlertStateMachine.observe(&state, status: .critical, at: Date(timeIntervalSince1970: 100), policy: policy)
        _ = AlertStateMachine.observe(&state, status: .critical, at: Date(timeIntervalSince1970: 130), policy: policy)
        #expect(state.failingSince == Date(timeIntervalSince1970: 100))
        _ = AlertStateMachine.observe(&state, status: .ok, at: Date(timeIntervalSince1970: 160), policy: policy)
        #expect(state.failingSince == Date(timeIntervalSince1970: 100), "still firing: the incident started then")
    }
}
