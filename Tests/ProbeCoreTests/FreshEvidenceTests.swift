import Foundation
import ProbeCore
import TestSupport
import Testing

/// The sidecar's reports merge the latest result of every check, each taken at its own time. These tables feed the
/// tracker such merged reports, sample by sample, the way the scheduler produces them.
@Suite struct FreshEvidenceTests {
    static let t0 = AlertFixtures.t0

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// One result sampled at `sampled` seconds.
    static func result(_ id: CheckID, _ status: Status, sampled: Double, target: String = "", summary: String? = nil)
        -> CheckResult
    {
        CheckResult(
            id: id, target: target, status: status, summary: summary ?? "\(id.rawValue) \(status.rawValue)",
            startedAt: at(sampled), reachabilityFailure: status != .ok && id.service.layer == .data)
    }

    static func merged(_ results: [CheckResult]) -> Report {
        var report = Report(startedAt: t0, durationMs: 1, results: results, notChecked: [])
        report.merged = true
        return report
    }

    /// Feeds each report at its own second; returns every message.
    static func feed(_ tracker: inout IncidentTracker, _ reports: [(Double, Report)]) -> [AlertMessage] {
        reports.flatMap { second, report in tracker.ingest(report, at: at(second), paging: true) }
    }

    @Test func aRepeatedSampleIsCountedOnce() {
        var tracker = IncidentTracker(instance: "p")
        let once = Self.merged([Self.result(.redisLatency, .critical, sampled: 0)])
        #expect(
            Self.feed(&tracker, [(1, once), (2, once), (3, once), (4, once)]).isEmpty,
            "one failing sample seen in four merged reports is one failure, not four")
        let again = Self.merged([Self.result(.redisLatency, .critical, sampled: 5)])
        #expect(Self.feed(&tracker, [(6, again)]).map(\.event) == [.firing])
    }

    @Test func aSymptomSampledBeforeItsRootCauseWasNoticedDoesNotPage() {
        var tracker = IncidentTracker(instance: "p")
        // The apiserver's checks ran before the outage began; agents.workers fails first.
        let before = [Self.result(.apiserverPing, .ok, sampled: 0), Self.result(.apiserverAuth, .ok, sampled: 0)]
        let stale1 = Self.merged(before + [Self.result(.agentsWorkers, .critical, sampled: 1)])
        let stale2 = Self.merged(before + [Self.result(.agentsWorkers, .critical, sampled: 3)])
        #expect(
            Self.feed(&tracker, [(2, stale1), (4, stale2)]).isEmpty,
            "judged on the apiserver's results from before the failure")
        #expect(tracker.state.incidents.isEmpty)
        // The early runs come back: the apiserver fails its authenticated calls.
        let fresh1 = Self.merged([
            Self.result(.apiserverPing, .ok, sampled: 4), Self.result(.apiserverAuth, .critical, sampled: 4),
            Self.result(.agentsWorkers, .critical, sampled: 3),
        ])
        let fresh2 = Self.merged([
            Self.result(.apiserverPing, .ok, sampled: 6), Self.result(.apiserverAuth, .critical, sampled: 6),
            Self.result(.agentsWorkers, .critical, sampled: 5),
        ])
        let messages = Self.feed(&tracker, [(5, fresh1), (7, fresh2)])
        #expect(messages.map(\.event) == [.firing])
        #expect(messages.map(\.service) == [.apiserver], "the apiserver, not the agents")
        #expect(messages.first?.symptoms.map(\.key) == ["agents.workers"])
    }

    @Test func aRealRootCauseStillPagesOnceItsDependenciesAreFresh() {
        var tracker = IncidentTracker(instance: "p")
        let reports = (0..<3).map { step -> (Double, Report) in
            let s = Double(step) * 2
            return (
                s + 1.5,
                Self.merged([
                    Self.result(.apiserverPing, .ok, sampled: s + 1), Self.result(.apiserverAuth, .ok, sampled: s + 1),
                    Self.result(.agentsWorkers, .critical, sampled: s),
                ])
            )
        }
        let messages = Self.feed(&tracker, reports)
        #expect(messages.map(\.service) == [.agents])
    }

    @Test func aStaleSymptomAfterTheHealIsNeitherARootCauseNorARecovery() throws {
        var tracker = IncidentTracker(instance: "p")
        let down1 = Self.merged([
            Self.result(.redisLatency, .critical, sampled: 0), Self.result(.apiserverAuth, .critical, sampled: 0.5),
        ])
        let down2 = Self.merged([
            Self.result(.redisLatency, .critical, sampled: 2), Self.result(.apiserverAuth, .critical, sampled: 2.5),
        ])
        let firing = Self.feed(&tracker, [(1, down1), (3, down2)])
        #expect(firing.map(\.service) == [.redis])
        // Redis heals; apiserver.auth's newest sample is still the failing one from before the heal.
        let healed1 = Self.merged([
            Self.result(.redisLatency, .ok, sampled: 4), Self.result(.apiserverAuth, .critical, sampled: 2.5),
        ])
        let healed2 = Self.merged([
            Self.result(.redisLatency, .ok, sampled: 6), Self.result(.apiserverAuth, .critical, sampled: 2.5),
        ])
        #expect(
            Self.feed(&tracker, [(5, healed1), (7, healed2)]).isEmpty,
            "no page for the apiserver from a sample taken before Redis came back, and no RESOLVED while it still fails"
        )
        let ok1 = Self.merged([
            Self.result(.redisLatency, .ok, sampled: 6), Self.result(.apiserverAuth, .ok, sampled: 7),
        ])
        let ok2 = Self.merged([
            Self.result(.redisLatency, .ok, sampled: 8), Self.result(.apiserverAuth, .ok, sampled: 9),
        ])
        let resolved = Self.feed(&tracker, [(8, ok1), (10, ok2)])
        #expect(resolved.map(\.event) == [.resolved])
        #expect(resolved.first?.incidentID == firing.first?.incidentID)
    }

    @Test func theOrderOfAReportsResultsDoesNotMakeAStaleSymptomARootCause() throws {
        // As in the sidecar's merged report (ingress first, data stores last), the dependent comes before the
        // dependency it rests on: the apiserver's check before Redis's. Observing in that order judged the stale apiserver sample against
        // Redis's previous change, and it paged as an apiserver failure of its own right after the heal.
        var tracker = IncidentTracker(instance: "p")
        let down = { (s: Double) in
            Self.merged([
                Self.result(.apiserverAuth, .critical, sampled: s + 0.5),
                Self.result(.redisLatency, .critical, sampled: s),
            ])
        }
        let firing = Self.feed(&tracker, [(1, down(0)), (3, down(2))])
        #expect(firing.map(\.service) == [.redis])
        let healed = { (s: Double) in
            Self.merged([
                Self.result(.apiserverAuth, .critical, sampled: 2.5),
                Self.result(.redisLatency, .ok, sampled: s),
            ])
        }
        #expect(
            Self.feed(&tracker, [(5, healed(4)), (7, healed(6))]).isEmpty,
            "no page for the apiserver from its sample of before the heal, whatever the order of the results")
        let ok = { (s: Double) in
            Self.merged([
                Self.result(.apiserverAuth, .ok, sampled: s + 1),
                Self.result(.redisLatency, .ok, sampled: s),
            ])
        }
        let resolved = Self.feed(&tracker, [(8, ok(6)), (10, ok(8))])
        #expect(resolved.map(\.event) == [.resolved])
        #expect(resolved.first?.incidentID == firing.first?.incidentID)
    }

    @Test func aSymptomOfAStaleSymptomStaysInItsIncidentAfterTheHeal() {
        // fileserver stopped: the ingress's files route answers 502 (a symptom of the fileserver), and the browser's
        // CORS preflight to the files host fails through that route (a symptom of the route). After the heal both
        // are still the samples from before it; the route, its dependency now passing, looks like an nginx root cause
        // for a moment, and the preflight must not open an nginx page as its symptom.
        var tracker = IncidentTracker(instance: "p")
        func report(fileserver: Status, sampled: Double, routeSampled: Double, routeStatus: Status) -> Report {
            Self.merged([
                CheckResult(
                    id: .webserverBrowser, service: .nginx, target: "cors-files", status: routeStatus,
                    summary: "preflight \(routeStatus.rawValue)", startedAt: Self.at(routeSampled),
                    dependsOn: [.result("ingress.routes/files"), .service(.fileserver)]),
                CheckResult(
                    id: .ingressRoutes, target: "files", status: routeStatus,
                    summary: "files route \(routeStatus.rawValue)",
                    startedAt: Self.at(routeSampled), dependsOn: [.service(.fileserver)]),
                Self.result(.fileserverRoundtrip, fileserver, sampled: sampled, target: "direct"),
            ])
        }
        let firing = Self.feed(
            &tracker,
            [
                (1, report(fileserver: .critical, sampled: 0, routeSampled: 0.5, routeStatus: .critical)),
                (3, report(fileserver: .critical, sampled: 2, routeSampled: 2.5, routeStatus: .critical)),
            ])
        #expect(firing.map(\.service) == [.fileserver])
        let healed = Self.feed(
            &tracker,
            [
                (5, report(fileserver: .ok, sampled: 4, routeSampled: 2.5, routeStatus: .critical)),
                (7, report(fileserver: .ok, sampled: 6, routeSampled: 2.5, routeStatus: .critical)),
            ])
        #expect(
            healed.isEmpty, "no nginx page from samples taken before the fileserver came back: \(healed.map(\.title))")
        let ok = Self.feed(
            &tracker,
            [
                (9, report(fileserver: .ok, sampled: 8, routeSampled: 8.5, routeStatus: .ok)),
                (11, report(fileserver: .ok, sampled: 10, routeSampled: 10.5, routeStatus: .ok)),
            ])
        #expect(ok.map(\.event) == [.resolved])
        #expect(ok.first?.incidentID == firing.first?.incidentID)
    }

    @Test func flappingThatEndsWhileEverythingPassesIsNoNewPage() {
        // redis.latency blips until it flaps; redis.status (slower, its last sample already OK) still waits for its
        // second OK sample when the latency check's flapping ends.
        var policy = AlertPolicy()
        policy.flappingChanges = 4
        var tracker = IncidentTracker(policy: policy, instance: "p")
        let latency: [Status] = [.critical, .critical, .ok, .critical, .ok, .critical, .ok, .ok, .ok, .ok, .ok]
        let statusSampled: [Double] = [0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 10]
        let reports = latency.indices.map { step -> (Double, Report) in
            let sampled = statusSampled[step]
            let status: Status = sampled < 6 ? .critical : .ok
            return (
                Double(step) + 0.5,
                Self.merged([
                    Self.result(.redisLatency, latency[step], sampled: Double(step)),
                    Self.result(.redisStatus, status, sampled: sampled),
                ])
            )
        }
        let messages = Self.feed(&tracker, reports)
        #expect(
            messages.map(\.event) == [.firing, .flapping, .resolved],
            "flapping that ends with every check passing is followed by the RESOLVED, not a new FIRING")
    }

    @Test func aKeyItsCheckNoLongerReportsIsRetired() {
        var tracker = IncidentTracker(instance: "p")
        let keyless = { (s: Double) in
            Self.merged([
                Self.result(.apiserverPing, .ok, sampled: s + 0.5),
                Self.result(.apiserverAuth, .ok, sampled: s + 0.5),
                Self.result(.agentsWorkers, .critical, sampled: s),
            ])
        }
        let firing = Self.feed(&tracker, [(1, keyless(0)), (3, keyless(2))])
        #expect(firing.map(\.service) == [.agents])
        let perQueue = { (s: Double) in
            Self.merged([
                Self.result(.apiserverPing, .ok, sampled: s), Self.result(.apiserverAuth, .ok, sampled: s),
                Self.result(.agentsWorkers, .ok, sampled: s, target: "services"),
            ])
        }
        let messages = Self.feed(&tracker, [(5, perQueue(4)), (7, perQueue(6))])
        #expect(messages.map(\.event) == [.resolved], "the keyless failure does not hold the incident open for ever")
        #expect(tracker.state.checks["agents.workers"] == nil)
        #expect(tracker.state.incidents.isEmpty)
    }

    @Test func anAnnouncedPageThatTurnsOutToBeASymptomIsNotResolvedWhileItFails() {
        var tracker = IncidentTracker(instance: "p")
        let agentsOnly = { (s: Double) in
            Self.merged([
                Self.result(.apiserverPing, .ok, sampled: s + 0.5),
                Self.result(.apiserverAuth, .ok, sampled: s + 0.5),
                Self.result(.agentsWorkers, .critical, sampled: s),
            ])
        }
        let first = Self.feed(&tracker, [(1, agentsOnly(0)), (3, agentsOnly(2))])
        #expect(first.map(\.service) == [.agents])
        let apiDown = { (s: Double) in
            Self.merged([
                Self.result(.apiserverPing, .critical, sampled: s),
                Self.result(.apiserverAuth, .critical, sampled: s),
                Self.result(.agentsWorkers, .critical, sampled: s + 0.5),
            ])
        }
        let second = Self.feed(&tracker, [(5, apiDown(4)), (7, apiDown(6)), (9, apiDown(8))])
        #expect(second.map(\.event) == [.firing])
        #expect(second.map(\.service) == [.apiserver])
        #expect(second.first?.summary.contains("also explains the open page for agents") == true)
        #expect(tracker.state.incidents.map(\.service).sorted { $0.rawValue < $1.rawValue } == [.agents, .apiserver])
        let healthy = { (s: Double) in
            Self.merged([
                Self.result(.apiserverPing, .ok, sampled: s), Self.result(.apiserverAuth, .ok, sampled: s),
                Self.result(.agentsWorkers, .ok, sampled: s + 0.5),
            ])
        }
        let end = Self.feed(&tracker, [(11, healthy(10)), (13, healthy(12))])
        #expect(
            end.filter { $0.event == .resolved }.map(\.service).sorted { $0.rawValue < $1.rawValue } == [
                .agents, .apiserver,
            ])
        #expect(end.allSatisfy { $0.event == .resolved })
    }

    /// Right after start (serve started in the middle of a Redis outage), the apiserver's checks may report before
    /// Redis's have run at all: "Redis not checked" is then only "not checked yet".
    static func pendingRedis(_ results: [CheckResult]) -> Report {
        var report = merged(results)
        report.pending = [.redisLatency, .redisStatus, .redisWrite]
        return report
    }

    @Test func aFailureOverADependencyThatHasNotReportedYetWaitsForIt() {
        var tracker = IncidentTracker(instance: "p")
        let early = [
            (1.0, Self.pendingRedis([Self.result(.apiserverAuth, .critical, sampled: 0)])),
            (3.0, Self.pendingRedis([Self.result(.apiserverAuth, .critical, sampled: 2)])),
        ]
        #expect(Self.feed(&tracker, early).isEmpty, "no page for the apiserver before Redis's checks said anything")
        let redisDown = { (s: Double) in
            Self.merged([
                Self.result(.redisLatency, .critical, sampled: s),
                Self.result(.apiserverAuth, .critical, sampled: s + 0.5),
            ])
        }
        let messages = Self.feed(&tracker, [(5, redisDown(4)), (7, redisDown(6))])
        #expect(messages.map(\.event) == [.firing])
        #expect(messages.map(\.service) == [.redis], "Redis, once heard from, is the root cause")
        #expect(messages.first?.symptoms.map(\.key) == ["apiserver.auth"])
    }

    @Test func aDependencyThatNeverReportsHoldsAFailureBackOnlyForTheEvidenceWait() {
        var tracker = IncidentTracker(instance: "p")
        let wait = tracker.policy.evidenceWait
        let stuck = stride(from: 0.0, through: wait + 10, by: 5).map { s in
            (s + 1, Self.pendingRedis([Self.result(.apiserverAuth, .critical, sampled: s)]))
        }
        let messages = Self.feed(&tracker, stuck)
        #expect(messages.map(\.event) == [.firing], "a Redis check that never reports cannot silence the outage")
        #expect(messages.map(\.service) == [.apiserver])
        #expect(messages.first?.unconfirmed == true, "said to be unconfirmed: Redis could not be checked")
        let firedAt = tracker.state.incidents.first?.lastNotifiedAt
        #expect(firedAt.map { $0.timeIntervalSince(Self.t0) >= wait } == true, "not before the wait was over")
    }

    @Test func aResultThatDoesNotRestOnThePendingCheckIsNotHeldBack() {
        var tracker = IncidentTracker(instance: "p")
        var reports: [(Double, Report)] = []
        for s in [0.0, 2.0] {
            var report = Self.merged([Self.result(.redisLatency, .critical, sampled: s)])
            report.pending = [.apiserverAuth, .agentsWorkers]
            reports.append((s + 1, report))
        }
        #expect(
            Self.feed(&tracker, reports).map(\.service) == [.redis],
            "Redis depends on none of the checks still to report")
    }
}

extension FreshEvidenceTests {
    /// MongoDB stops several times in a row. Its first failing sample is "connection closed" (no reachability
    /// verdict); apiserver.auth's pass was sampled a moment after it (its request raced the stop), so the next
    /// mongo.ping failure, a refused connection, reads "unreachable from the probe but the apiserver shows it serves
    /// the stack" until apiserver.auth fails too.
    @Test func aPassThatRacedTheStoreFailingIsNoRecoveryAndNoFlapping() {
        var tracker = IncidentTracker(instance: "p")
        func auth(_ status: Status, sampled: Double) -> CheckResult {
            CheckResult(
                id: .apiserverAuth, status: status, summary: "auth \(status.rawValue)", startedAt: Self.at(sampled),
                provides: status == .ok ? [.mongo] : [])
        }
        func ping(_ status: Status, sampled: Double, refused: Bool = true) -> CheckResult {
            CheckResult(
                id: .mongoPing, status: status, summary: "ping \(status.rawValue)", startedAt: Self.at(sampled),
                reachabilityFailure: status != .ok && refused)
        }
        var messages: [AlertMessage] = []
        for outage in 0..<6 {
            let s = Double(outage) * 40
            let reports: [(Double, Report)] = [
                (s + 1, Self.merged([ping(.ok, sampled: s), auth(.ok, sampled: s)])),
                (s + 3, Self.merged([ping(.ok, sampled: s + 2), auth(.ok, sampled: s + 2)])),
                // MongoDB stops at s + 3.9; apiserver.auth's request at s + 4.1 was still answered.
                (s + 4.05, Self.merged([ping(.critical, sampled: s + 4, refused: false), auth(.ok, sampled: s + 2)])),
                (s + 4.2, Self.merged([ping(.critical, sampled: s + 4, refused: false), auth(.ok, sampled: s + 4.1)])),
                (s + 6.1, Self.merged([ping(.critical, sampled: s + 6), auth(.ok, sampled: s + 4.1)])),
                (s + 6.6, Self.merged([ping(.critical, sampled: s + 6), auth(.critical, sampled: s + 6.5)])),
                (s + 10.1, Self.merged([ping(.critical, sampled: s + 10), auth(.critical, sampled: s + 10.5)])),
                // Healed at s + 12.
                (s + 14.1, Self.merged([ping(.ok, sampled: s + 14), auth(.critical, sampled: s + 10.5)])),
                (s + 14.6, Self.merged([ping(.ok, sampled: s + 14), auth(.ok, sampled: s + 14.5)])),
                (s + 16.1, Self.merged([ping(.ok, sampled: s + 16), auth(.ok, sampled: s + 16)])),
                (s + 18.1, Self.merged([ping(.ok, sampled: s + 18), auth(.ok, sampled: s + 18)])),
            ]
            #expect(reports[4].1.result("mongo.ping")?.role == .unreachableFromProbe, "the race this table is about")
            messages += Self.feed(&tracker, reports)
        }
        #expect(
            messages.map(\.event) == Array(repeating: [AlertMessage.Event.firing, .resolved], count: 6).flatMap { $0 },
            "each stop is one FIRING and one RESOLVED, never FLAPPING or silence")
        #expect(Set(messages.map(\.service)) == [.mongo])
        #expect(tracker.state.checks["mongo.ping"]?.changes.isEmpty == true, "no blip was counted towards flapping")
    }
}

@Suite struct FlappingYieldsToARealOutageTests {
    @Test func noiseThenASustainedFailurePages() {
        var policy = AlertPolicy()
        policy.flappingChanges = 4
        var state = CheckAlertState(lastSeen: .distantPast)
        var transitions: [CheckAlertTransition] = []
        let noise: [Status] = [.critical, .ok, .critical, .ok, .critical]
        let outage: [Status] = Array(repeating: .critical, count: 4)
        for (index, status) in (noise + outage).enumerated() {
            transitions += AlertStateMachine.observe(
                &state, status: status, at: Date(timeIntervalSince1970: Double(index) * 30), policy: policy)
        }
        #expect(transitions.contains(.flappingStarted))
        #expect(transitions.last == .flappingStopped, "four failures in a row are an outage, not noise")
        #expect(!state.flapping)
        #expect(state.phase == .firing)
    }
}
