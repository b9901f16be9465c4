import Foundation

/// Turns successive reports into alert messages: one incident per root-cause service, symptoms inside it, never a
/// symptom paging on its own, a RESOLVED for every incident that was announced. Pure: reports and a clock value in,
/// messages out; the caller persists `state` and delivers the messages.
///
/// Level-triggered: after each report it compares what should be said (open incidents, their severity, flapping)
/// with what was said, so the same logic reconciles after a restart or at the end of the grace period.
public struct IncidentTracker: Sendable {
    public var state: AlertingState
    public var policy: AlertPolicy
    /// Names the probe instance in ids and messages.
    public var instance: String

    public init(state: AlertingState = AlertingState(), policy: AlertPolicy = AlertPolicy(), instance: String) {
        self.state = state
        self.policy = policy
        self.instance = instance
    }

    /// Feeds one report. `paging` is false during the grace period after start: state moves, nothing is said, and
    /// incidents already announced stay open until it ends.
    public mutating func ingest(_ report: Report, at now: Date, paging: Bool) -> [AlertMessage] {
        observe(report, at: now)
        var members: [Service: [String]] = [:]
        for (key, check) in state.checks.sorted(by: { $0.key < $1.key }) where check.isActive {
            guard let service = check.incidentService else { continue }
            members[service, default: []].append(key)
        }

        var messages: [AlertMessage] = []
        var kept: [IncidentState] = []
        let services =
            state.incidents.map(\.service)
            + Service.dependencyOrder.filter { members[$0] != nil && state.incident($0) == nil }
        for service in services {
            let keys = members[service] ?? []
            if keys.isEmpty {
                guard var incident = state.incident(service) else { continue }
                if !incident.notified { continue }  // never announced: nothing to resolve
                if !paging {
                    kept.append(incident)
                    continue
                }
                messages.append(message(.resolved, for: &incident, now: now, report: report))
                continue
            }
            var incident = state.incident(service) ?? open(service, keys: keys, now: now)
            refresh(&incident, keys: keys, report: report)
            if paging { messages += announce(&incident, keys: keys, now: now, report: report) }
            kept.append(incident)
        }
        state.incidents = kept
        return messages
    }

    // MARK: - Check states

    mutating func observe(_ report: Report, at now: Date) {
        retireAndAge(report, at: now)
        for result in Self.evidenceFirst(report.results) {
            var check = state.checks[result.key] ?? CheckAlertState(lastSeen: now)
            // A store the probe cannot reach while another check proves it serves the stack is the probe's blind
            // spot, not an outage: shown in the report, never paged.
            let status = result.role == .unreachableFromProbe ? .ok : result.status
            let unseen = !report.merged || check.sampleAt != result.startedAt
            let fresh = !report.merged || isFresh(result, check: check, in: report, at: now)
            if unseen && !fresh && status != .ok && check.heldSince == nil { check.heldSince = now }
            if unseen && fresh {
                if status == .ok { check.heldSince = nil }
                let wasOK = check.lastStatus.map { $0 == .ok }
                // A symptom's changes (it fails and heals with its root cause) do not make it flap.
                let own =
                    status == .ok
                    ? (check.incidentService ?? result.service) == result.service : result.role != .symptom
                _ = AlertStateMachine.observe(&check, status: status, at: now, policy: policy, countsForFlapping: own)
                check.sampleAt = result.startedAt
                if status == .ok {
                    check.failingSampleAt = nil
                } else if check.failingSampleAt == nil {
                    check.failingSampleAt = result.startedAt
                }
                if let wasOK, wasOK != (status == .ok) { check.changedSampleAt = result.startedAt }
            }
            if fresh, status != .ok { attribute(&check, result, in: report) }
            state.checks[result.key] = check
        }
        prune(now: now)
    }

    /// The order in which one report's results are observed: what a verdict rests on before the verdict. Passing
    /// results first (they may have just changed, which makes older failures that relied on them stale), then the
    /// other failures with dependencies before dependents, then symptoms (a failing dependency explains them whatever
    /// its age; they join the incident their root cause is in). Observed in report order, a root cause sampled before its dependency recovered would be judged
    /// against the dependency's previous change and page as a failure of its own.
    static func evidenceFirst(_ results: [CheckResult]) -> [CheckResult] {
        let depth = Dictionary(uniqueKeysWithValues: Service.dependencyOrder.enumerated().map { ($1, $0) })
        func rank(_ result: CheckResult) -> Int {
            if result.status == .ok || result.role == .unreachableFromProbe { return 0 }
            if result.role == .symptom { return 1 + depth.count + 1 }
            return 1 + (depth[result.service] ?? depth.count)
        }
        return results.enumerated().sorted { a, b in
            let (ra, rb) = (rank(a.element), rank(b.element))
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }

    /// A key whose check reported without it is retired (a check that now reports per target no longer keeps its
    /// keyless failure open); keys of checks that did not report age.
    mutating func retireAndAge(_ report: Report, at now: Date) {
        let keys = Set(report.results.map(\.key))
        let reported = Set(report.results.map(\.id.rawValue))
        for key in Array(state.checks.keys) where !keys.contains(key) {
            if reported.contains(Self.checkID(ofKey: key)) {
                state.checks[key] = nil
            } else {
                AlertStateMachine.age(&state.checks[key]!, at: now, policy: policy)
            }
        }
    }

    /// `agents.workers/services` → `agents.workers`; `ingress.routes/api#2` → `ingress.routes`.
    static func checkID(ofKey key: String) -> String {
        String(key.prefix { $0 != "/" && $0 != "#" })
    }

    /// Whether the evidence for this result's role is as new as its failure (see `EvidenceFreshness`), and no
    /// configured check it rests on is still to report its first result; or it has waited `evidenceWait` for that
    /// (counted from the failure, or from when a sample not yet observed failing was first held back).
    func isFresh(_ result: CheckResult, check: CheckAlertState, in report: Report, at now: Date) -> Bool {
        guard result.status != .ok else { return true }
        let failing = check.lastStatus.map { $0 != .ok } ?? false
        let since = failing ? (check.failingSampleAt ?? result.startedAt) : result.startedAt
        let waitingSince = [check.heldSince, failing ? check.failingSince : nil].compactMap { $0 }.min()
        if let waitingSince, now.timeIntervalSince(waitingSince) >= policy.evidenceWait { return true }
        // A failing store the probe now cannot reach while a service using it passes: that pass may have been
        // sampled a moment after the store failed but before the service's own requests did. Taken at once, it
        // reads as a recovery and, a sample later, a new failure, each one sample long (flapping that hides the
        // outage). The failure stands until that proof has held for the evidence wait.
        if failing, result.role == .unreachableFromProbe { return false }
        if !EvidenceFreshness.awaited(for: result, in: report).isEmpty { return false }
        let checks = state.checks
        // A failure that was a symptom of another service stands on its own only with a sample taken after that
        // service last changed (it may still be failing from before its root cause recovered).
        if let previous = check.incidentService, previous != result.service, result.role != .symptom {
            let causeChanged = report.results.filter { $0.service == previous }.compactMap {
                checks[$0.key]?.changedSampleAt
            }.max()
            if let causeChanged, result.startedAt < causeChanged { return false }
        }
        return EvidenceFreshness.stale(
            result, in: report, failingSince: since, changedAt: { checks[$0]?.changedSampleAt }
        ).isEmpty
    }

    /// Which incident a failing key belongs to. A key already in an announced incident stays there when it turns out
    /// to be a symptom of a deeper root cause: that page is merged into the root cause's incident (which lists it),
    /// and is resolved when its own checks pass, never as "recovered" while they still fail.
    func attribute(_ check: inout CheckAlertState, _ result: CheckResult, in report: Report) {
        let target = incidentService(of: result, in: report)
        if let current = check.incidentService, current != target, target != result.service, check.isActive,
            state.incident(current)?.notified == true
        {
            return
        }
        check.incidentService = target
    }

    /// The service whose incident a failing result belongs to: its root cause's incident when it is a symptom (the
    /// root cause is observed first, so that is this report's verdict on it, or, when its sample is stale, the
    /// incident it still belongs to: a symptom sampled fresh does not open a page for a root cause that has not been
    /// sampled since its own dependency recovered).
    func incidentService(of result: CheckResult, in report: Report) -> Service {
        guard result.role == .symptom, let cause = result.rootCause.flatMap(report.result) else {
            return result.service
        }
        if let causeState = state.checks[cause.key], causeState.lastStatus.map({ $0 != .ok }) ?? false,
            let service = causeState.incidentService
        {
            return service
        }
        return cause.service
    }

    /// Drops healthy keys not seen for a day, then the oldest healthy ones beyond the cap. Active keys are kept: they
    /// hold incidents open.
    mutating func prune(now: Date) {
        for (key, check) in state.checks where !check.isActive && now.timeIntervalSince(check.lastSeen) > 86400 {
            state.checks[key] = nil
        }
        let excess = state.checks.count - policy.maxStateEntries
        guard excess > 0 else { return }
        let idle = state.checks.filter { !$0.value.isActive && $0.value.recentBad.isEmpty }
            .sorted { $0.value.lastSeen < $1.value.lastSeen }
        for (key, _) in idle.prefix(excess) { state.checks[key] = nil }
    }

    // MARK: - Incidents

    func open(_ service: Service, keys: [String], now: Date) -> IncidentState {
        let started = keys.compactMap { state.checks[$0]?.failingSince }.min() ?? now
        let id = "\(instance)/\(service.rawValue)/\(Int(started.timeIntervalSince1970))"
        return IncidentState(service: service, incidentID: id, startedAt: started, severity: .ok)
    }

    /// Rebuilds what the incident says from the current report: root cause first, symptoms below.
    func refresh(_ incident: inout IncidentState, keys: [String], report: Report) {
        let memberChecks = keys.compactMap { state.checks[$0] }
        incident.severity = Status.worst(
            memberChecks.map { $0.phase == .firing ? $0.severity : ($0.lastStatus ?? .unknown) })
        if incident.severity == .ok { incident.severity = .warning }
        incident.flapping = memberChecks.contains { $0.flapping }

        let serviceKeys = Set(report.results.filter { $0.service == incident.service }.map(\.key))
        // The service's own failing checks, including those that are symptoms of another check of the same service
        // (redis.write failing because redis.latency cannot connect).
        var causes = report.results.filter { result in
            result.service == incident.service && result.status != .ok
                && (result.role != .symptom || result.rootCause.map(serviceKeys.contains) == true)
        }
        if causes.isEmpty { causes = keys.compactMap(report.result).filter { $0.status != .ok } }
        causes.sort { a, b in
            if a.status != b.status { return a.status > b.status }
            if (a.role == .rootCause) != (b.role == .rootCause) { return a.role == .rootCause }
            return a.key < b.key
        }
        let symptoms = report.results.filter { result in
            result.role == .symptom && result.status != .ok && result.rootCause.map(serviceKeys.contains) == true
                && !causes.contains { $0.key == result.key }
        }
        guard let lead = causes.first else { return }  // nothing failing right now (a flapping key between failures)
        incident.causes = causes.map { AlertMessage.Line(key: $0.key, status: $0.status, summary: $0.summary) }
        incident.symptoms = symptoms.map { AlertMessage.Line(key: $0.key, status: $0.status, summary: $0.summary) }
        incident.unconfirmed =
            !causes.contains { $0.role == .rootCause } && causes.contains { $0.role == .unconfirmedRootCause }
        incident.summary = lead.summary
        if incident.unconfirmed {
            let unchecked = Set(report.uncheckedServices)
            let blind = lead.dependsOn.compactMap { dependency -> String? in
                if case .service(let service) = dependency, unchecked.contains(service) { return service.displayName }
                return nil
            }
            if !blind.isEmpty {
                incident.summary += " (unconfirmed root cause: \(blind.joined(separator: ", ")) could not be checked)"
            }
        }
        // A page that turned out to be a symptom of this one stays open until its checks pass; this one says so.
        let symptomKeys = Set(symptoms.map(\.key))
        let explained = state.incidents.filter { other in
            other.service != incident.service && other.notified
                && state.checks.contains {
                    $0.value.incidentService == other.service && $0.value.isActive && symptomKeys.contains($0.key)
                }
        }
        if !explained.isEmpty {
            incident.summary +=
                " (this also explains the open page for "
                + explained.map(\.service.displayName).joined(separator: ", ") + ")"
        }
        incident.hint = lead.hint
        incident.evidence = lead.evidence ?? lead.error
    }

    /// Says what has not been said yet: the first firing, a worsening, one flapping notice, or a reminder.
    ///
    /// A worsening pages only from a degraded incident (warning) to one that is down or cannot be checked: unknown →
    /// critical is the same outage seen by a second check a moment later (nginx stopped: the TLS check cannot
    /// connect, then the route check finds the refusal), and easing while it heals is no page either. FLAPPING is
    /// said once and only for an announced incident; after it the incident pages again when flapping ends only if
    /// something of it still fails.
    mutating func announce(_ incident: inout IncidentState, keys: [String], now: Date, report: Report) -> [AlertMessage]
    {
        if incident.flapping {
            // Only a page already sent is worth a FLAPPING notice ("quiet until it is stable"). Blips that never
            // fired (a latency check on a starved host, a reconnect right after a recovery) are shown on the status
            // page, not paged: nobody was woken, so there is nothing to call off.
            guard incident.notified, !incident.flappingNotified else { return [] }
            incident.flappingNotified = true
            incident.notifiedSeverity = nil
            return [message(.flapping, for: &incident, now: now, report: report)]
        }
        incident.flappingNotified = false
        if let notified = incident.notifiedSeverity, incident.severity != notified,
            notified != .warning || incident.severity < notified
        {
            incident.notifiedSeverity = incident.severity
        }
        if incident.notifiedSeverity == nil, incident.notified,
            !keys.contains(where: { key in report.result(key).map { $0.status != .ok } ?? false })
        {
            // Flapping ended with every check of it passing: the RESOLVED follows, no new page.
            incident.notifiedSeverity = incident.severity
        }
        if incident.notifiedSeverity != incident.severity {
            let previous = incident.notifiedSeverity
            incident.notifiedSeverity = incident.severity
            return [message(.firing, for: &incident, now: now, report: report, previousSeverity: previous)]
        }
        if policy.reminderInterval > 0, incident.remindersSent < policy.maxReminders,
            let last = incident.lastNotifiedAt, now.timeIntervalSince(last) >= policy.reminderInterval
        {
            incident.remindersSent += 1
            return [message(.reminder, for: &incident, now: now, report: report)]
        }
        return []
    }

    func message(
        _ event: AlertMessage.Event, for incident: inout IncidentState, now: Date, report: Report,
        previousSeverity: Status? = nil
    ) -> AlertMessage {
        incident.messageCount += 1
        if event != .resolved {
            incident.notified = true
            incident.lastNotifiedAt = now
        }
        let id =
            "msg_"
            + SHA256.hex(Array("\(incident.incidentID)#\(incident.messageCount)#\(event.rawValue)".utf8)).prefix(32)
        let title = IncidentText.title(event, incident: incident, previousSeverity: previousSeverity, now: now)
        var summary = incident.summary
        var causes = incident.causes
        if event == .resolved {
            summary =
                "All checks of \(incident.service.displayName) pass again, after "
                + "\(Durations.format(seconds: now.timeIntervalSince(incident.startedAt)))."
            causes = causes.map { line in
                let current = report.result(line.key)
                return AlertMessage.Line(
                    key: line.key, status: current?.status ?? .ok,
                    summary: current?.summary ?? line.summary)
            }
        }
        return AlertMessage(
            messageID: String(id), incidentID: incident.incidentID, event: event,
            severity: event == .resolved ? .ok : incident.severity, service: incident.service, title: title,
            summary: summary, hint: event == .resolved ? nil : incident.hint,
            evidence: event == .resolved ? nil : incident.evidence, causes: causes,
            symptoms: event == .resolved ? [] : incident.symptoms, unconfirmed: incident.unconfirmed,
            startedAt: incident.startedAt, resolvedAt: event == .resolved ? now : nil, createdAt: now,
            statusURL: policy.statusURL, instance: instance)
    }
}
