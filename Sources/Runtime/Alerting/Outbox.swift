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
    /// incident id → destinations whose undeliverable announcement was given up: its RESOLVED goes to the dead
    /// letters too, never alone to a destination that never heard of the incident.
    public var gaveUp: [String: Set<String>] = [:]

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
        if message.event == .resolved, let abandoned = gaveUp.removeValue(forKey: message.incidentID) {
            for target in targets where abandoned.contains(target.name) {
                bury(
                    OutboxEntry(message: message, destination: target.name, enqueuedAt: now),
                    reason: "not sent: this incident's firing was given up, so its RESOLVED goes with it", at: now,
                    limits: limits)
            }
        }
        for target in names {
            var entry = OutboxEntry(message: message, destination: target.name, enqueuedAt: now)
            guard !entries.contains(where: { $0.id == entry.id }) else { continue }
            if message.event == .firing || message.event == .flapping {
                announced[message.incidentID, default: []].insert(target.name)
                gaveUp[message.incidentID]?.remove(target.name)
                if gaveUp[message.incidentID]?.isEmpty == true { gaveUp[message.incidentID] = nil }
            }
            if let off = disabled[target.name], off.fingerprint == target.fingerprint {
                entry.lastError = off.reason
                bury(
                    entry,
                    reason: "not sent: destination disabled since \(MessageText.time(off.since)) (\(off.reason))",
                    at: now, limits: limits)
                finish(entry)
                continue
            }
            entries.append(entry)
        }
        if message.event == .resolved { announced[message.incidentID] = nil }
        while entries.count > limits.maxOutbox {
            let oldest = entries.removeFirst()
            bury(
                oldest, reason: "outbox full (\(limits.maxOutbox) messages): the oldest was set aside", at: now,
                limits: limits)
        }
    }

    /// Queues a re-send (Alertmanager, see `AlertmanagerResends`) for one destination, in its incident's lane,
    /// without touching the ledger of announcements. Not for a disabled destination.
    public mutating func enqueueResend(_ message: AlertMessage, to target: Target, now: Date, limits: AlertPolicy) {
        if let off = disabled[target.name], off.fingerprint == target.fingerprint { return }
        let entry = OutboxEntry(message: message, destination: target.name, enqueuedAt: now)
        guard !entries.contains(where: { $0.id == entry.id }) else { return }
        entries.append(entry)
        while entries.count > limits.maxOutbox {
            let oldest = entries.removeFirst()
            bury(
                oldest, reason: "outbox full (\(limits.maxOutbox) messages): the oldest was set aside", at: now,
                limits: limits)
        }
    }

    /// Whether anything is queued in a lane (`destination|incident`).
    public func isBusy(lane: String) -> Bool { entries.contains { $0.lane == lane } }

    /// Applies the configured destinations: a destination whose address or credentials changed is enabled again;
    /// messages for a destination no longer configured go to the dead letters.
    public mutating func reconcile(with targets: [Target], now: Date, limits: AlertPolicy) {
        let byName = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, off) in disabled where byName[name]?.fingerprint != off.fingerprint { disabled[name] = nil }
        for (name, _) in pausedUntil where byName[name] == nil { pausedUntil[name] = nil }
        let orphans = entries.filter { byName[$0.destination] == nil }
        entries.removeAll { byName[$0.destination] == nil }
        for entry in orphans {
            bury(entry, reason: "destination '\(entry.destination)' is no longer configured", at: now, limits: limits)
        }
    }

    // MARK: - What to send

    /// The head of every lane that may be attempted at `now`, oldest first. Stale heads are handled first.
    public mutating func due(now: Date, excluding inFlight: Set<String>, limits: AlertPolicy) -> [OutboxEntry] {
        dropStale(now: now, maxAge: limits.maxMessageAge)
        giveUp(now: now, limits: limits)
        var seenLanes: Set<String> = []
        var result: [OutboxEntry] = []
        for entry in entries where seenLanes.insert(entry.lane).inserted {
            if inFlight.contains(entry.id) { continue }
            if let paused = pausedUntil[entry.destination], paused > now { continue }
            if entry.nextAttemptAt <= now { result.append(entry) }
        }
        return result
    }

    /// When the next attempt is due, for the delivery loop's sleep; `readyAt` adds a destination's own pace.
    public func nextAttempt(readyAt: (String) -> Date? = { _ in nil }) -> Date? {
        var seenLanes: Set<String> = []
        var next: Date?
        for entry in entries where seenLanes.insert(entry.lane).inserted {
            let at = max(
                entry.nextAttemptAt, pausedUntil[entry.destination] ?? .distantPast,
                readyAt(entry.destination) ?? .distantPast)
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
                guard entry.message.event != .resolved, now.timeIntervalSince(entry.message.createdAt) > maxAge else {
                    continue
                }
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

    /// Gives up a lane head that could not be delivered for `giveUpAfter`: it goes to the dead letters, with its
    /// pair when the destination never heard of the incident: the lane up to its RESOLVED, or, while the incident is
    /// open, the rest of the lane now and its RESOLVED when it comes (`gaveUp`). A RESOLVED is never given up alone:
    /// once the destination heard the firing, only the stale update at the head goes.
    mutating func giveUp(now: Date, limits: AlertPolicy) {
        var changed = true
        while changed {
            changed = false
            var seenLanes: Set<String> = []
            for entry in entries where seenLanes.insert(entry.lane).inserted {
                let age = now.timeIntervalSince(entry.enqueuedAt)
                guard entry.message.event != .resolved, age > limits.giveUpAfter else { continue }
                let why =
                    "given up: not delivered for \(Durations.format(seconds: age.rounded()))"
                    + (entry.lastError.map { " (last error: \($0))" } ?? "")
                let incident = entry.message.incidentID
                let heard = delivered[incident]?.contains(entry.destination) == true
                var lane = entries.filter { $0.lane == entry.lane }
                if heard || entry.message.event == .test {
                    lane = [entry]
                } else if let resolved = lane.firstIndex(where: { $0.message.event == .resolved }) {
                    lane = Array(lane[...resolved])
                } else {
                    announced[incident]?.remove(entry.destination)
                    if announced[incident]?.isEmpty == true { announced[incident] = nil }
                    gaveUp[incident, default: []].insert(entry.destination)
                }
                let ids = Set(lane.map(\.id))
                entries.removeAll { ids.contains($0.id) }
                for (index, gone) in lane.enumerated() {
                    bury(
                        gone,
                        reason: index == 0
                            ? why
                            : "not sent: \(gone.message.event == .resolved ? "its" : "this incident's") firing was given up (\(why))",
                        at: now, limits: limits)
                }
                changed = true
                break
            }
        }
    }

    // MARK: - Outcomes

    /// Records one attempt's outcome. `unit` is the jitter draw (0…1).
    public mutating func record(
        _ id: String, outcome: DeliveryOutcome, disablesDestination: Bool, fingerprint: String,
        now: Date, backoff: Backoff, unit: Double, limits: AlertPolicy
    ) {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return }
        var entry = entries[index]
        entry.attempts += 1
        switch outcome {
        case .delivered:
            entries.remove(at: index)
            deliveredCount += 1
            switch entry.message.event {
            case .firing, .flapping, .reminder:
                delivered[entry.message.incidentID, default: []].insert(entry.destination)
            case .resolved, .test: finish(entry)
            }
        case .retry(let after, let reason):
            entry.lastError = reason
            entry.nextAttemptAt = now.addingTimeInterval(
                backoff.delay(afterAttempt: entry.attempts, hint: after, unit: unit))
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

extension Outbox {
    enum CodingKeys: String, CodingKey {
        case entries, deadLetters, deadLettersEvicted, announced, delivered, disabled, pausedUntil, deliveredCount,
            droppedStale, gaveUp
    }

    /// Reads a saved outbox; a field that older files lack starts empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entries = try container.decode([OutboxEntry].self, forKey: .entries)
        deadLetters = try container.decode([DeadLetter].self, forKey: .deadLetters)
        deadLettersEvicted = try container.decode(Int.self, forKey: .deadLettersEvicted)
        announced = try container.decode([String: Set<String>].self, forKey: .announced)
        delivered = try container.decode([String: Set<String>].self, forKey: .delivered)
        disabled = try container.decode([String: Disabled].self, forKey: .disabled)
        pausedUntil = try container.decode([String: Date].self, forKey: .pausedUntil)
        deliveredCount = try container.decode(Int.self, forKey: .deliveredCount)
        droppedStale = try container.decode(Int.self, forKey: .droppedStale)
        gaveUp = try container.decodeIfPresent([String: Set<String>].self, forKey: .gaveUp) ?? [:]
    }
}
