import Foundation
import ProbeCore
import TestSupport
import Testing

@Suite struct IncidentTrackerTests {
    typealias F = AlertFixtures

    static func at(_ minutes: Double) -> Date { F.t0.addingTimeInterval(minutes * 60) }

    /// Feeds reports one per minute from `start`, paging on; returns every message.
    static func feed(_ tracker: inout IncidentTracker, _ reports: [(Double, Report)], paging: Bool = true)
        -> [AlertMessage]
    {
        reports.flatMap { minute, report in tracker.ingest(report, at: at(minute), paging: paging) }
    }

    @Test func oneIncidentPerRootCauseServiceWithSymptomsInside() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        let messages = Self.feed(&tracker, [(0, down), (1, down), (2, down)])
        #expect(messages.count == 1)
        let firing = messages[0]
        #expect(firing.event == .firing)
        #expect(firing.service == .redis)
        #expect(firing.title == "Redis is failing")
        #expect(firing.causes.map(\.key) == ["redis.latency", "redis.write"])
        #expect(firing.summary == "Redis refuses connections (redis:6379)")
        #expect(firing.hint?.contains("docker compose up -d redis") == true)
        #expect(
            Set(firing.symptoms.map(\.key)).isSuperset(of: ["apiserver.auth", "fileserver.roundtrip", "webserver.ui"]))
        #expect(firing.startedAt == Self.at(0))
        #expect(!firing.unconfirmed)
        #expect(tracker.state.incidents.map(\.service) == [.redis], "no incident for a symptom's service")
    }

    @Test func checksOfTheRootCauseServiceAreListedAsCausesEvenWhenOneIsASymptomOfAnother() throws {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let results = [
            CheckResult(id: .redisLatency, status: .critical, summary: "connection refused", reachabilityFailure: true),
            CheckResult(
                id: .redisWrite, status: .critical, summary: "connection refused", dependsOn: [.check(.redisLatency)]),
            CheckResult(id: .apiserverAuth, status: .critical, summary: "plain 500 on Bearer calls"),
        ]
        let report = Report(startedAt: F.t0, durationMs: 1, results: results, notChecked: [])
        #expect(report.result("redis.write")?.rootCause == "redis.latency")
        let messages = Self.feed(&tracker, [(0, report), (1, report)])
        let firing = try #require(messages.first { $0.event == .firing && $0.service == .redis })
        #expect(firing.causes.map(\.key) == ["redis.latency", "redis.write"])
        #expect(!firing.symptoms.map(\.key).contains("redis.write"))
    }

    @Test func aStoreUnreachableFromTheProbeButProvenByTheAPIDoesNotPage() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let results = [
            CheckResult(id: .mongoPing, status: .critical, summary: "connection refused", reachabilityFailure: true),
            CheckResult(id: .apiserverAuth, status: .ok, summary: "login OK", provides: [.mongo, .redis]),
        ]
        let report = Report(startedAt: F.t0, durationMs: 1, results: results, notChecked: [])
        #expect(report.result("mongo.ping")?.role == .unreachableFromProbe)
        let messages = Self.feed(&tracker, [(0, report), (1, report), (2, report)])
        #expect(messages.isEmpty)
        #expect(tracker.state.incidents.isEmpty)
    }

    @Test func resolvesOnceAfterEnoughOKResults() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        let healthy = F.healthy()
        let messages = Self.feed(&tracker, [(0, down), (1, down), (2, healthy), (3, healthy), (4, healthy)])
        #expect(messages.map(\.event) == [.firing, .resolved])
        let resolved = messages[1]
        #expect(resolved.incidentID == messages[0].incidentID)
        #expect(resolved.messageID != messages[0].messageID)
        #expect(resolved.resolvedAt == Self.at(3))
        #expect(resolved.causes.allSatisfy { $0.status == .ok })
        #expect(tracker.state.incidents.isEmpty)
    }

    @Test func aSymptomConfirmedBeforeItsRootCauseStillPagesAsTheRootCause() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let apiserverOnly = F.report(failing: [.apiserver: .critical])
        let redisDown = F.report(failing: [.redis: .critical])
        let messages = Self.feed(&tracker, [(0, apiserverOnly), (1, redisDown), (2, redisDown)])
        #expect(messages.map(\.service) == [.redis], "one Redis incident; apiserver.auth is listed as its symptom")
    }

    @Test func nothingPagesDuringGraceAndReconcilesAfter() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.mongo: .critical])
        #expect(Self.feed(&tracker, [(0, down), (1, down), (2, down)], paging: false).isEmpty)
        let after = Self.feed(&tracker, [(3, down)])
        #expect(after.map(\.event) == [.firing])
        #expect(after.first?.startedAt == Self.at(0))
    }

    @Test func anIncidentThatHealedDuringGraceIsNeverAnnounced() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.mongo: .critical])
        let healthy = F.healthy()
        #expect(Self.feed(&tracker, [(0, down), (1, down), (2, healthy), (3, healthy)], paging: false).isEmpty)
        #expect(Self.feed(&tracker, [(4, healthy)]).isEmpty)
        #expect(tracker.state.incidents.isEmpty)
    }

    @Test func afterARestartNoSecondFiringAndExactlyOneResolved() throws {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        #expect(Self.feed(&tracker, [(0, down), (1, down)]).map(\.event) == [.firing])
        // The process dies; the state goes through its JSON form, as on disk.
        let saved = try JSONEncoder().encode(tracker.state)
        var restarted = IncidentTracker(
            state: try JSONDecoder().decode(AlertingState.self, from: saved), instance: "clearml-probe")
        // Grace after the restart: still failing, nothing said.
        #expect(Self.feed(&restarted, [(10, down), (11, down)], paging: false).isEmpty)
        #expect(Self.feed(&restarted, [(14, down)]).isEmpty, "still open: no re-fire")
        let healthy = F.healthy()
        let end = Self.feed(&restarted, [(15, healthy), (16, healthy), (17, healthy)])
        #expect(end.map(\.event) == [.resolved])
    }

    @Test func clearedWhileDownResolvesAfterGrace() throws {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        _ = Self.feed(&tracker, [(0, down), (1, down)])
        let healthy = F.healthy()
        #expect(Self.feed(&tracker, [(10, healthy), (11, healthy)], paging: false).isEmpty, "held during grace")
        #expect(Self.feed(&tracker, [(14, healthy)]).map(\.event) == [.resolved])
    }

    @Test func aWorseSeverityPagesAMilderOneDoesNot() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let warning = F.report(failing: [.elasticsearch: .warning])
        let critical = F.report(failing: [.elasticsearch: .critical])
        let messages = Self.feed(
            &tracker,
            [
                (0, warning), (1, warning), (2, critical), (3, critical), (4, warning), (5, warning),
                (6, critical), (7, critical),
            ])
        // Easing (as the critical checks of an outage pass first while it heals) is no page; worsening again is.
        #expect(
            messages.map(\.title) == [
                "Elasticsearch is degraded", "Elasticsearch is failing (worse: was warning)",
                "Elasticsearch is failing (worse: was warning)",
            ])
        #expect(messages.map(\.severity) == [.warning, .critical, .critical])
        #expect(Set(messages.map(\.incidentID)).count == 1)
    }

    @Test func cannotBeCheckedThenFailingIsOnePage() {
        // nginx stopped: the TLS check cannot connect (unknown) a moment before the route check finds the refusal.
        var tracker = IncidentTracker(instance: "clearml-probe")
        let unknown = F.report(failing: [.nginx: .unknown])
        let critical = F.report(failing: [.nginx: .critical])
        let messages = Self.feed(&tracker, [(0, unknown), (1, unknown), (2, critical), (3, critical), (4, critical)])
        #expect(messages.map(\.event) == [.firing], "one outage, one page: \(messages.map(\.title))")
        let healthy = F.healthy()
        #expect(Self.feed(&tracker, [(5, healthy), (6, healthy)]).map(\.event) == [.resolved])
    }

    @Test func remindersWhileFiringAreCapped() {
        var policy = AlertPolicy()
        policy.reminderInterval = 3600
        policy.maxReminders = 2
        var tracker = IncidentTracker(policy: policy, instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        let reports = stride(from: 0.0, through: 300, by: 10).map { ($0, down) }
        let messages = Self.feed(&tracker, reports)
        #expect(messages.map(\.event) == [.firing, .reminder, .reminder])
        #expect(messages[1].title.hasPrefix("Still: Redis is failing for 1"))
    }

    @Test func flappingSendsOneNoticeThenQuietThenResolves() {
        var policy = AlertPolicy()
        policy.fireAfter = 1
        policy.resolveAfter = 2
        policy.flappingChanges = 4
        policy.flappingWindow = 600
        var tracker = IncidentTracker(policy: policy, instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        let healthy = F.healthy()
        var reports: [(Double, Report)] = []
        for minute in 0..<12 { reports.append((Double(minute), minute % 2 == 0 ? down : healthy)) }
        let storm = Self.feed(&tracker, reports)
        // It fired, then keeps failing every other sample: one flapping notice instead of a storm.
        #expect(storm.map(\.event) == [.firing, .flapping])
        let calm = Self.feed(&tracker, (12..<30).map { (Double($0), healthy) })
        #expect(calm.map(\.event) == [.resolved], "once stable again, exactly one RESOLVED")
    }

    @Test func blipsThatNeverFiredSendNothing() {
        // A latency check on a starved host: one slow sample now and then, never two in a row.
        var policy = AlertPolicy()
        policy.flappingChanges = 4
        var tracker = IncidentTracker(policy: policy, instance: "clearml-probe")
        let slow = F.report(failing: [.redis: .warning])
        let healthy = F.healthy()
        let reports = (0..<20).map { (Double($0), $0 % 3 == 0 ? slow : healthy) }
        #expect(Self.feed(&tracker, reports).isEmpty, "no FLAPPING for a page that was never sent")
    }

    @Test func unconfirmedRootCausePagesAsSuch() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let blind = F.report(failing: [.apiserver: .critical], omit: [.mongo, .redis, .elasticsearch])
        let messages = Self.feed(&tracker, [(0, blind), (1, blind)])
        #expect(messages.count == 1)
        #expect(messages[0].unconfirmed)
        #expect(messages[0].title == "apiserver is failing (unconfirmed root cause)")
        #expect(messages[0].summary.contains("could not be checked"))
    }

    @Test func messageIDsAreStableFunctionsOfTheIncident() {
        var first = IncidentTracker(instance: "clearml-probe")
        var second = IncidentTracker(instance: "clearml-probe")
        let down = F.report(failing: [.redis: .critical])
        let a = Self.feed(&first, [(0, down), (1, down)])
        let b = Self.feed(&second, [(0, down), (1, down)])
        #expect(
            a.map(\.messageID) == b.map(\.messageID),
            "same history, same ids: a crash before saving re-makes the same message")
        #expect(a[0].messageID.hasPrefix("msg_"))
        #expect(a[0].incidentID == "clearml-probe/redis/\(Int(Self.at(0).timeIntervalSince1970))")
    }

    @Test func twoServicesTwoIncidents() {
        var tracker = IncidentTracker(instance: "clearml-probe")
        let both = F.report(failing: [.redis: .critical, .elasticsearch: .warning])
        let messages = Self.feed(&tracker, [(0, both), (1, both)])
        #expect(Set(messages.map(\.service)) == [.redis, .elasticsearch])
    }
}
