import Foundation
import Notifiers
import ProbeCore

/// The durable queue of messages per destination, with its ledger and dead letters. Pure: the pipeline feeds it
/// messages, clock values and delivery outcomes, and persists it.
///
/// - Order is kept per lane (destination, incident): only a lane's head is ever sent, so a RESOLVED never overtakes
///   its firing, and a lane waiting out its backoff never holds up another lane.
/// - A RESOLVED goes only where its incident was announced ("if we notified, we resolve"), and is never dropped for
///   age: a stale announcement is dropped only together with the RESOLVED queued behind it.
/// - Everything is capped; what cannot be kept goes to the dead letters, which are capped too (and counted).
public struct Outbox: Sendable, Codable, Equatable {
    public var entries: [OutboxEntry] = []
    public var deadLetters: [DeadLetter] = []
    /// Dead letters pushed out by the cap.
    public var deadLettersEvicted: Int = 0
    /// incident id → destinations its announcement was queued for.
    public var announced: [String: Set<String>] = [:]
    /// incident id → destinations that received an announcement.
    public var delivered: [String: Set<String>] = [:]
    /// destination → why it is disabled, for its current fingerprint.
    public var disabled: [String: Disabled] = [:]
    /// destination → no attempt before this (a rate-limit hint applies to the whole destination).
    public var pausedUntil: [String: Date] = [:]
    public var deliveredCount: Int = 0
    /// Stale messages dropped together with their RESOLVED (or superseded by a later message of their lane).
    public var droppedStale: Int = 0

    public struct Disabled: Sendable, Codable, Equatable {
        public var fingerprint: String
        public var reason: String
        public var since: Date
    }

    public struct Target: Sendable, Equatable {
        public var name: String
        public var fingerprint: String
        public init(name: String, fingerprint: String) {
            self.name = name
            self.fingerprint = fingerprint
        }
    }

    public init() {}

    // MARK: - Enqueue

    /// Queues a message for the destinations it concerns. Idempotent per (destination, message id).
    public mutating func enqueue(_ message: AlertMessage, to targets: [Target], now: Date, limits: AlertPolicy) {
        let names: [Target]
        switch message.event {
        case .firing, .flapping, .test:
            names = targets
        case .resolved, .reminder:
            let known = announced[message.incidentID] ?? []
            names = targets.filter { known.contains($0.name) }
        }
        for target in names {
            var entry = OutboxEntry(message: message, destination: target.name, enqueuedAt: now)
            guard !entries.contains(where: { $0.id == entry.id }) else { continue }
            if message.event == .firing || message.event == .flapping {
                announced[message.incidentID, default: []].insert(target.name)
            }
            if let off = disabled[target.name], off.fingerprint == target.fingerprint {
                entry.lastError = off.reason
                bury(entry, reason: "not sent: destination disabled since \(MessageText.time(off.since)) (\(off.reason))", at: now, limits: limits)
                finish(entry)
                continue
            }
            entries.append(entry)
        }
        if message.event == .resolved { announced[message.incidentID] = nil }
        while entries.count > limits.maxOutbox {
            let oldest = entries.removeFirst()
            bury(oldest, reason: "outbox full (\(limits.maxOutbox) messages): the oldest was set aside", at: now, limits: limits)
        }
    }

    /// Applies the configured destinations: a destination whose address or credentials changed is enabled again;
    /// messages for a destination no longer configured go to the dead letters.
    public mutating func reconcile(with targets: [Target], now: Date, limits: AlertPolicy) {
        let byName = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, off) in disabled where byName[name]?.fingerprint != off.fingerprint { disabled[name] = nil }
        for (name, _) in pausedUntil where byName[name] == nil { pausedUntil[name] = nil }
        let orphans = entries.filter { byName[$0.destination] == nil }
        entries.removeAll { byName[$0.destination] == nil }
        for entry in orphans { bury(entry, reason: "destination '\(entry.destination)' is no longer configured", at: now, limits: limits) }
    }

    // MARK: - What to send

    /// The head of every lane that may be attempted at `now`, oldest first. Stale heads are handled first.
    public mutating func due(now: Date, excluding inFlight: Set<String>, limits: AlertPolicy) -> [OutboxEntry] {
        dropStale(now: now, maxAge: limits.maxMessageAge)
        var seenLanes: Set<String> = []
        var result: [OutboxEntry] = []
        for entry in entries where seenLanes.insert(entry.lane).inserted {
            if inFlight.contains(entry.id) { continue }
            if let paused = pausedUntil[entry.destination], paused > now { continue }
            if entry.nextAttemptAt <= now { result.append(entry) }
        }
        return result
    }

    /// When the next attempt is due, for the delivery loop's sleep.
    public func nextAttempt() -> Date? {
        var seenLanes: Set<String> = []
        var next: Date?
        for entry in entries where seenLanes.insert(entry.lane).inserted {
            let at = max(entry.nextAttemptAt, pausedUntil[entry.destination] ?? .distantPast)
            next = next.map { min($0, at) } ?? at
        }
        return next
    }

    /// A stale head is dropped only with its pair: a never-delivered announcement together with the RESOLVED queued
    /// behind it (the incident is over and nobody heard of it), or a reminder or update superseded by a later
    /// message of its lane. A RESOLVED is never dropped alone, and an open incident's only message is kept.
    mutating func dropStale(now: Date, maxAge: Double) {
        var changed = true
        while changed {
            changed = false
            var seenLanes: Set<String> = []
            for entry in entries where seenLanes.insert(entry.lane).inserted {
                guard entry.message.event != .resolved, now.timeIntervalSince(entry.message.createdAt) > maxAge else { continue }
                let lane = entries.filter { $0.lane == entry.lane }
                guard lane.count > 1 else { continue }
                let heard = delivered[entry.message.incidentID]?.contains(entry.destination) == true
                if !heard, let resolved = lane.firstIndex(where: { $0.message.event == .resolved }) {
                    let pair = Set(lane[...resolved].map(\.id))
                    entries.removeAll { pair.contains($0.id) }
                    droppedStale += pair.count
                    delivered[entry.message.incidentID]?.remove(entry.destination)
                } else if heard || entry.message.event == .reminder {
                    entries.removeAll { $0.id == entry.id }
                    droppedStale += 1
                } else {
                    continue
                }
                changed = true
                break
            }
        }
    }

    // MARK: - Outcomes

    /// Records one attempt's outcome. `unit` is the jitter draw (0…1).
    public mutating func record(_ id: String, outcome: DeliveryOutcome, disablesDestination: Bool, fingerprint: String,
                                now: Date, backoff: Backoff, unit: Double, limits: AlertPolicy) {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return }
        var entry = entries[index]
        entry.attempts += 1
        switch outcome {
        case .delivered:
            entries.remove(at: index)
            deliveredCount += 1
            switch entry.message.event {
            case .firing, .flapping, .reminder: delivered[entry.message.incidentID, default: []].insert(entry.destination)
            case .resolved, .test: finish(entry)
            }
        case .retry(let after, let reason):
            entry.lastError = reason
            entry.nextAttemptAt = now.addingTimeInterval(backoff.delay(afterAttempt: entry.attempts, hint: after, unit: unit))
            entries[index] = entry
            if let after, after > 0 {
                let until = now.addingTimeInterval(after)
                pausedUntil[entry.destination] = max(pausedUntil[entry.destination] ?? .distantPast, until)
            }
        case .permanent(let reason):
            entries.remove(at: index)
            entry.lastError = reason
            bury(entry, reason: reason, at: now, limits: limits)
            if entry.message.event == .resolved { finish(entry) }
            if disablesDestination {
                disabled[entry.destination] = Disabled(fingerprint: fingerprint, reason: reason, since: now)
                let rest = entries.filter { $0.destination == entry.destination }
                entries.removeAll { $0.destination == entry.destination }
                for other in rest {
                    bury(other, reason: "not sent: destination disabled (\(reason))", at: now, limits: limits)
                }
            }
        }
    }

    /// Forgets the ledger of an incident for one destination once its story there is over.
    mutating func finish(_ entry: OutboxEntry) {
        guard entry.message.event == .resolved else { return }
        delivered[entry.message.incidentID]?.remove(entry.destination)
        if delivered[entry.message.incidentID]?.isEmpty == true { delivered[entry.message.incidentID] = nil }
    }

    mutating func bury(_ entry: OutboxEntry, reason: String, at date: Date, limits: AlertPolicy) {
        deadLetters.append(DeadLetter(entry: entry, reason: reason, at: date))
        if deadLetters.count > limits.maxDeadLetters {
            let excess = deadLetters.count - limits.maxDeadLetters
            deadLetters.removeFirst(excess)
            deadLettersEvicted += excess
        }
    }
}
