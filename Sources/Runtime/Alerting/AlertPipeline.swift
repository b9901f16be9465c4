import Foundation
import Notifiers
import ProbeCore

/// Alerting end to end: reports in (`ingest`), incidents and messages out through the durable outbox to every
/// destination (`deliver(now:)`, or the long-running `run()`). The sidecar's scheduler hosts it as a `ReportSink`.
///
/// Every change is saved before it has effects: a message is on disk before it is sent, and removed only after a
/// destination took it, so a crash can repeat a message (with the same id) but never lose one.
public actor AlertPipeline: ReportSink {
    public let destinations: [any Destination]
    public let policy: AlertPolicy
    /// Which destinations an incident's announcement goes to (RESOLVED and reminders follow it, see `Outbox`).
    public let routes: AlertRoutes
    public let maintenance: MaintenancePlan
    /// The silences in force (the state directory's `silences.json`, read at every report).
    let silenceSource: @Sendable () throws -> [Silence]
    public let startedAt: Date
    let store: AlertStore?
    let transport: any AlertTransport
    let clock: any AlertClock
    let backoff: Backoff
    let jitter: @Sendable () -> Double
    let log: @Sendable (String) -> Void
    let maxConcurrentSends: Int

    var tracker: IncidentTracker
    var outbox: Outbox
    var paging: PagingLedger
    var resends: AlertmanagerResends
    var pacer = DeliveryPacer()
    var silences: [Silence] = []
    var silenceError: String?
    var inFlight: Set<String> = []
    var wakeRequested = false
    var saveError: String?

    /// Builds the pipeline and loads what the state directory remembers. `startedAt` starts the grace period.
    public init(
        config: AlertsConfig, instance: String, stateDirectory: String?,
        transport: any AlertTransport = CurlAlertTransport(),
        clock: any AlertClock = SystemAlertClock(), startedAt: Date? = nil, backoff: Backoff = Backoff(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, maxConcurrentSends: Int = 4,
        silences: (@Sendable () throws -> [Silence])? = nil,
        log: @escaping @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data("clearml-probe: \(line)\n".utf8))
        }
    ) throws {
        self.destinations = config.destinations
        self.policy = config.policy
        self.routes = config.routes
        self.maintenance = config.maintenance
        if let silences {
            self.silenceSource = silences
        } else if let stateDirectory {
            let store = SilenceStore(directory: stateDirectory)
            self.silenceSource = { try store.load().silences }
        } else {
            self.silenceSource = { [] }
        }
        self.store = stateDirectory.map(AlertStore.init(directory:))
        self.transport = transport
        self.clock = clock
        self.startedAt = startedAt ?? clock.now()
        self.backoff = backoff
        self.jitter = jitter
        self.log = log
        self.maxConcurrentSends = max(1, maxConcurrentSends)
        let snapshot = try store?.load() ?? AlertStore.Snapshot()
        self.tracker = IncidentTracker(state: snapshot.alerting, policy: config.policy, instance: instance)
        self.outbox = snapshot.outbox
        self.paging = snapshot.paging
        self.resends = snapshot.resends
        self.outbox.reconcile(
            with: destinations.map { Outbox.Target(name: $0.name, fingerprint: $0.fingerprint) },
            now: self.startedAt, limits: config.policy)
    }

    var targets: [Outbox.Target] { destinations.map { Outbox.Target(name: $0.name, fingerprint: $0.fingerprint) } }

    /// The Alertmanager destinations by name: they get re-sends (`AlertmanagerResends`).
    var alertmanagers: [String: AlertmanagerDestination] {
        Dictionary(
            destinations.compactMap { $0 as? AlertmanagerDestination }.map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first })
    }

    public var graceEndsAt: Date { startedAt.addingTimeInterval(policy.grace) }

    // MARK: - Reports in

    public func ingest(_ report: Report, at date: Date) async {
        let paging = date >= graceEndsAt
        let messages = tracker.ingest(report, at: date, paging: paging)
        let gate = currentGate()
        var queued = 0
        for message in messages {
            switch self.paging.decide(message, gate: gate, now: date) {
            case .send(let message):
                route(message, at: date)
                queued += 1
            case .hold(let verdict):
                log(
                    "alert \(message.event.rawValue) held: \(message.title) [\(message.incidentID)] \(verdict.description)"
                )
            case .drop(let reason):
                log("alert \(message.event.rawValue) not sent: \(message.title) [\(message.incidentID)]: \(reason)")
            }
        }
        // Incidents held by a silence that expired or a window that closed page now, while still open.
        let open = Set(tracker.state.incidents.map(\.incidentID))
        for incident in self.paging.incidents.keys where !open.contains(incident) { self.paging.forget(incident) }
        for message in self.paging.release(now: date, gate: gate) {
            log("alert released (silence or maintenance over): \(message.title) [\(message.incidentID)]")
            route(message, at: date)
            queued += 1
        }
        persist()
        if queued > 0 { wakeRequested = true }
    }

    /// Queues a message where it goes: an announcement (firing, flapping) to the destinations its route names; a
    /// reminder or RESOLVED to every destination, which the outbox narrows to where the incident was announced.
    func route(_ message: AlertMessage, at date: Date) {
        var chosen = targets
        if message.event == .firing || message.event == .flapping {
            let names = Set(routes.destinations(for: AlertSubject(message: message), all: destinations.map(\.name)))
            chosen = targets.filter { names.contains($0.name) }
        }
        outbox.enqueue(message, to: chosen, now: date, limits: policy)
        log(
            "alert \(message.event.rawValue): \(message.title) [\(message.incidentID)] → \(chosen.isEmpty ? "no destination" : chosen.map(\.name).joined(separator: ", "))"
        )
    }

    /// Silences (re-read each time; the last good list is kept when the file cannot be read) and maintenance.
    func currentGate() -> PagingGate {
        do {
            silences = try silenceSource()
            if silenceError != nil { log("silences readable again") }
            silenceError = nil
        } catch {
            let text = "\(error)"
            if silenceError != text { log("cannot read the silences, keeping the last ones: \(text)") }
            silenceError = text
        }
        return PagingGate(silences: silences, maintenance: maintenance)
    }

    /// Queues a message built elsewhere (e.g. a test message) for every destination.
    public func enqueue(_ message: AlertMessage, at date: Date) {
        outbox.enqueue(message, to: targets, now: date, limits: policy)
        persist()
        wakeRequested = true
    }

    // MARK: - Delivery

    public struct Round: Sendable, Equatable {
        public var delivered = 0
        public var retried = 0
        public var deadLettered = 0
        /// Due, but held back by the destination's pace (`RateLimit`).
        public var paced = 0
        public var attempted: Int { delivered + retried + deadLettered }
    }

    /// Attempts every lane head due at `now` (at most `maxConcurrentSends` at once) and records the outcomes.
    @discardableResult
    public func deliver(now: Date) async -> Round {
        queueResends(now: now)
        let candidates = outbox.due(now: now, excluding: inFlight, limits: policy)
        var round = Round()
        guard !candidates.isEmpty else { return round }
        let byName = Dictionary(destinations.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Oldest first, at each destination's pace: the rest stays due for a later round.
        var due: [OutboxEntry] = []
        for entry in candidates {
            if pacer.admit(entry.destination, limit: byName[entry.destination]?.rateLimit, now: now) {
                due.append(entry)
            } else {
                round.paced += 1
            }
        }
        var pending = due[...]
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxConcurrentSends))
            pending = pending.dropFirst(batch.count)
            for entry in batch { inFlight.insert(entry.id) }
            let results = await withTaskGroup(of: (String, DeliveryOutcome, Bool, Double?).self) { group in
                for entry in batch {
                    guard let destination = byName[entry.destination] else { continue }
                    let transport = self.transport
                    group.addTask {
                        await Self.attempt(entry, destination: destination, transport: transport, now: now)
                    }
                }
                var collected: [(String, DeliveryOutcome, Bool, Double?)] = []
                for await result in group { collected.append(result) }
                return collected
            }
            for (id, outcome, disables, pacing) in results {
                inFlight.remove(id)
                guard let entry = outbox.entries.first(where: { $0.id == id }) else { continue }
                if let pacing { pacer.hold(entry.destination, seconds: pacing, now: now) }
                let fingerprint = byName[entry.destination]?.fingerprint ?? ""
                outbox.record(
                    id, outcome: outcome, disablesDestination: disables, fingerprint: fingerprint, now: now,
                    backoff: backoff, unit: jitter(), limits: policy)
                if byName[entry.destination] is AlertmanagerDestination {
                    switch outcome {
                    case .delivered: resends.delivered(entry, at: now)
                    case .permanent: resends.refused(entry)
                    case .retry: break
                    }
                }
                let what = "\(entry.message.event.rawValue) \(entry.message.messageID) to \(entry.destination)"
                switch outcome {
                case .delivered: round.delivered += 1
                case .retry(_, let reason):
                    round.retried += 1
                    log("alert delivery will be retried: \(what): \(reason)")
                case .permanent(let reason):
                    round.deadLettered += 1
                    log(
                        "alert delivery failed for good: \(what): \(reason)\(disables ? " (destination disabled)" : "")"
                    )
                }
            }
            for entry in batch { inFlight.remove(entry.id) }
            persist()
        }
        return round
    }

    /// Queues the Alertmanager re-sends due at `now` (each only to its destination, in its incident's lane).
    func queueResends(now: Date) {
        let alertmanagers = self.alertmanagers
        guard !alertmanagers.isEmpty || !resends.items.isEmpty else { return }
        let open = Set(tracker.state.incidents.map(\.incidentID))
        let outbox = self.outbox
        let due = resends.due(
            now: now, destinations: alertmanagers, openIncidents: open,
            laneBusy: { outbox.isBusy(lane: $0) },
            disabled: { name in
                outbox.disabled[name].map { $0.fingerprint == alertmanagers[name]?.fingerprint } ?? false
            })
        for (name, message) in due {
            guard let destination = alertmanagers[name] else { continue }
            self.outbox.enqueueResend(
                message, to: Outbox.Target(name: name, fingerprint: destination.fingerprint), now: now, limits: policy)
        }
        if !due.isEmpty { persist() }
    }

    /// When the delivery loop should look again: the next attempt due, or the next Alertmanager re-send.
    func nextWake() -> Date? {
        let now = clock.now()
        let pacer = self.pacer
        return [
            outbox.nextAttempt(readyAt: { pacer.nextAdmission($0, now: now) }),
            resends.nextResend(destinations: alertmanagers),
        ].compactMap { $0 }.min()
    }

    /// One attempt: build the request (signed for this attempt), send it, judge the answer. Errors are redacted with
    /// the destination's own secrets.
    /// The last value is the destination's pacing hint (seconds before its next request), from the answer's headers.
    static func attempt(_ entry: OutboxEntry, destination: any Destination, transport: any AlertTransport, now: Date)
        async -> (String, DeliveryOutcome, Bool, Double?)
    {
        let request: OutgoingRequest
        do {
            request = try destination.request(for: entry.message, now: now)
        } catch {
            return (
                entry.id,
                .permanent(reason: Redact.text("cannot build the request: \(error)", secrets: destination.secrets)),
                false, nil
            )
        }
        var response = await transport.send(request, timeout: destination.timeout)
        response.transportError = response.transportError.map { Redact.text($0, secrets: destination.secrets) }
        response.body = Redact.text(response.body, secrets: destination.secrets)
        var outcome = destination.classify(response)
        switch outcome {
        case .retry(let after, let reason):
            outcome = .retry(after: after, reason: Redact.text(reason, secrets: destination.secrets))
        case .permanent(let reason): outcome = .permanent(reason: Redact.text(reason, secrets: destination.secrets))
        case .delivered: break
        }
        let disables: Bool
        if case .permanent = outcome { disables = destination.disables(response) } else { disables = false }
        return (entry.id, outcome, disables, destination.pacingDelay(response))
    }

    /// Delivers until nothing is due now (for `alerts flush`), waiting for the destinations' pace; returns what is
    /// still queued.
    public func flush(maxRounds: Int = 1000) async -> Int {
        for _ in 0..<maxRounds {
            let round = await deliver(now: clock.now())
            if round.paced > 0, let next = nextWake() {
                try? await clock.sleep(seconds: min(5, max(0.01, next.timeIntervalSince(clock.now()))))
                continue
            }
            if round.attempted == 0 { break }
        }
        return outbox.entries.count
    }

    /// The delivery loop for the sidecar: attempts what is due, then sleeps until the next attempt or a new message
    /// (checked every `tick` seconds). Returns when the task is cancelled, after saving.
    public func run(tick: Double = 0.5) async {
        while !Task.isCancelled {
            wakeRequested = false
            await deliver(now: clock.now())
            let wakeAt = nextWake() ?? clock.now().addingTimeInterval(60)
            while !Task.isCancelled && !wakeRequested && clock.now() < wakeAt {
                do {
                    try await clock.sleep(seconds: min(tick, max(0.01, wakeAt.timeIntervalSince(clock.now()))))
                } catch {
                    break
                }
            }
        }
        persist()
    }

    // MARK: - State

    func persist() {
        guard let store else { return }
        do {
            try store.save(
                AlertStore.Snapshot(alerting: tracker.state, outbox: outbox, paging: paging, resends: resends))
            if saveError != nil { log("alert state saved again in \(store.directory)") }
            saveError = nil
        } catch {
            let text = "\(error)"
            if saveError != text { log("cannot save the alert state: \(text)") }
            saveError = text
        }
    }

    public func status() -> AlertStatus {
        let now = clock.now()
        return AlertStatus(
            paging: now >= graceEndsAt, graceEndsAt: graceEndsAt,
            incidents: tracker.state.incidents.map {
                AlertStatus.Incident(
                    incidentId: $0.incidentID, service: $0.service, severity: $0.severity, summary: $0.summary,
                    startedAt: $0.startedAt, notified: $0.notified, flapping: $0.flapping,
                    unconfirmed: $0.unconfirmed, symptoms: $0.symptoms.count)
            },
            destinations: destinations.map { destination in
                AlertStatus.DestinationState(
                    name: destination.name, kind: destination.kind.rawValue, url: destination.redactedURL,
                    queued: outbox.entries.filter { $0.destination == destination.name }.count,
                    disabled: outbox.disabled[destination.name].flatMap {
                        $0.fingerprint == destination.fingerprint ? $0.reason : nil
                    },
                    pausedUntil: outbox.pausedUntil[destination.name].flatMap { $0 > now ? $0 : nil })
            },
            outbox: outbox.entries.map {
                AlertStatus.Queued(
                    destination: $0.destination, messageId: $0.message.messageID, incidentId: $0.message.incidentID,
                    event: $0.message.event.rawValue, attempts: $0.attempts, nextAttemptAt: $0.nextAttemptAt,
                    lastError: $0.lastError)
            },
            deadLetters: outbox.deadLetters.map {
                AlertStatus.Dead(
                    destination: $0.destination, messageId: $0.message.messageID, incidentId: $0.message.incidentID,
                    event: $0.message.event.rawValue, title: $0.message.title, reason: $0.reason,
                    attempts: $0.attempts, deadAt: $0.deadAt)
            },
            deadLettersEvicted: outbox.deadLettersEvicted, delivered: outbox.deliveredCount,
            droppedStale: outbox.droppedStale)
    }

    /// The current state, for tests and the sidecar's metrics.
    public var snapshot: AlertStore.Snapshot {
        AlertStore.Snapshot(alerting: tracker.state, outbox: outbox, paging: paging, resends: resends)
    }

    // MARK: - Test messages

    public struct TestResult: Sendable, Equatable {
        public var destination: String
        public var kind: DestinationKind
        public var url: String
        public var outcome: DeliveryOutcome
    }

    /// Sends one test message to each destination directly (not through the outbox) and says what each answered.
    public func sendTest(now: Date) async -> [TestResult] {
        let message = AlertMessage.test(instance: tracker.instance, now: now, statusURL: policy.statusURL)
        var results: [TestResult] = []
        for destination in destinations {
            let entry = OutboxEntry(message: message, destination: destination.name, enqueuedAt: now)
            let (_, outcome, _, _) = await Self.attempt(entry, destination: destination, transport: transport, now: now)
            results.append(
                TestResult(
                    destination: destination.name, kind: destination.kind, url: destination.redactedURL,
                    outcome: outcome))
        }
        return results
    }
}
