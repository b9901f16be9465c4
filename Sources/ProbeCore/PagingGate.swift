import Foundation

/// Decides whether an incident may page now: silences (state directory) and maintenance windows (alerts.yaml).
/// Pure; the pipeline gives it the current silences and the clock.
public struct PagingGate: Sendable, Equatable {
    public var silences: [Silence]
    public var maintenance: MaintenancePlan

    public init(silences: [Silence] = [], maintenance: MaintenancePlan = MaintenancePlan()) {
        self.silences = silences
        self.maintenance = maintenance
    }

    public enum Verdict: Sendable, Equatable {
        case page
        /// Quiet because of these silences (ids), until the last of them expires.
        case silenced(ids: [String], until: Date)
        case maintenance(window: String, reason: String)

        public var pages: Bool { self == .page }

        /// For logs and `/status`: "silenced by s-1a2b3c4d until 2026-08-22T12:00:00Z".
        public var description: String {
            switch self {
            case .page: return "pages"
            case .silenced(let ids, let until):
                return "silenced by \(ids.joined(separator: ", ")) until \(UTCTimestamp.rfc3339(until))"
            case .maintenance(let window, let reason): return "in maintenance window '\(window)' (\(reason))"
            }
        }
    }

    public func verdict(for subject: AlertSubject, at date: Date) -> Verdict {
        if maintenance.isInMaintenance(subject, at: date) {
            let window =
                maintenance.windows.first {
                    $0.isOpen(at: date) && Suppression.covers(subject, selectors: [$0.selector])
                }
                ?? maintenance.windows.first { $0.isOpen(at: date) }
            return .maintenance(window: window?.name ?? "maintenance", reason: window?.reason ?? "")
        }
        let active = silences.filter { $0.isActive(at: date) }
        if Suppression.covers(subject, selectors: active.map(\.matcher.selector)) {
            let relevant = active.filter { silence in
                subject.checks.isEmpty
                    ? silence.matcher.selector.matches(subject)
                    : subject.checks.contains {
                        silence.matcher.selector.matches(
                            AlertSubject(service: subject.service, severity: subject.severity, checks: [$0]))
                    }
            }
            return .silenced(ids: relevant.map(\.id), until: relevant.map(\.expiresAt).max() ?? date)
        }
        return .page
    }
}

/// Which incidents paged, and which are held back by a silence or a maintenance window: a pure state machine the
/// alert pipeline consults before it puts a message in the outbox. Codable, to live in the state directory.
///
/// - firing, reminder, flapping: sent when the gate says `page` (the incident is then marked as paged), else held
///   (the latest message is kept).
/// - resolved: sent when the incident paged ("if we notified, we resolve"), whatever the gate says now; dropped when
///   it never paged (nobody was told it fired).
/// - test: always sent.
/// - `release(now:gate:)`: held incidents whose silence expired or whose window closed page then, with their latest
///   message.
public struct PagingLedger: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var paged: Bool
        /// The latest message held back while the incident may not page.
        public var held: AlertMessage?
    }

    public private(set) var incidents: [String: Entry]

    public init() { incidents = [:] }

    public enum Decision: Sendable, Equatable {
        case send(AlertMessage)
        case hold(PagingGate.Verdict)
        /// A RESOLVED for an incident that never paged.
        case drop(reason: String)
    }

    public mutating func decide(_ message: AlertMessage, gate: PagingGate, now: Date) -> Decision {
        switch message.event {
        case .test:
            return .send(message)
        case .resolved:
            let entry = incidents.removeValue(forKey: message.incidentID)
            if entry?.paged == true { return .send(message) }
            return .drop(reason: "the incident never paged (it was silenced or in maintenance while it was open)")
        case .firing, .reminder, .flapping:
            let verdict = gate.verdict(for: AlertSubject(message: message), at: now)
            if verdict.pages {
                var message = message
                // Held until now, so nobody has seen it fire: a reminder announces it.
                if message.event == .reminder, incidents[message.incidentID]?.paged == false { message.event = .firing }
                incidents[message.incidentID] = Entry(paged: true, held: nil)
                return .send(message)
            }
            if incidents[message.incidentID]?.paged == true {
                // Already told people it fired: a reminder during a later silence is held, the incident stays paged.
                return .hold(verdict)
            }
            var held = message
            if held.event == .reminder { held.event = .firing }
            incidents[message.incidentID] = Entry(paged: false, held: held)
            return .hold(verdict)
        }
    }

    /// Held incidents that may page now; each is marked as paged and its held message returned (as a firing).
    public mutating func release(now: Date, gate: PagingGate) -> [AlertMessage] {
        var released: [AlertMessage] = []
        for (id, entry) in incidents.sorted(by: { $0.key < $1.key }) where !entry.paged {
            guard let message = entry.held, gate.verdict(for: AlertSubject(message: message), at: now).pages else {
                continue
            }
            incidents[id] = Entry(paged: true, held: nil)
            released.append(message)
        }
        return released.sorted { $0.startedAt < $1.startedAt }
    }

    /// Forgets an incident (when the pipeline drops it for good, e.g. capped state).
    public mutating func forget(_ incidentID: String) { incidents.removeValue(forKey: incidentID) }

    public func hasPaged(_ incidentID: String) -> Bool { incidents[incidentID]?.paged == true }
}
