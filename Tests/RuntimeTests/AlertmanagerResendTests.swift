import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// Alertmanager forgets an alert when its `endsAt` passes: while an incident is open the pipeline keeps re-posting it,
/// and a RESOLVED is re-posted for 15 minutes (docs/chat-platforms.md, "Alertmanager").
@Suite struct AlertmanagerResendTests {
    typealias F = AlertFixtures

    /// What Alertmanager was told, and when.
    final class Posts: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = NSLock()
        private var list: [(at: Date, resolved: Bool, endsAt: Date)] = []

        func add(_ request: OutgoingRequest, at date: Date) {
            guard let alerts = JSONValue.parse(request.body)?.array, let first = alerts.first,
                let text = first["endsAt"]?.string, let endsAt = ISO8601DateFormatter().date(from: text)
            else { return }
            // A RESOLVED posts every severity's label set, with endsAt at the resolution.
            lock.withLock { list.append((date, alerts.count > 1, endsAt)) }
        }

        var all: [(at: Date, resolved: Bool, endsAt: Date)] { lock.withLock { list } }
    }

    static let alertmanager = AlertmanagerDestination(config: try! AlertmanagerConfig(url: "http://alertmanager:9093"))

    static func pipeline(state: String?, transport: ScriptedTransport, clock: ManualClock, grace: Double = 0) throws
        -> AlertPipeline
    {
        try AlertPipeline(
            config: AlertsConfig(
                policy: AlertTesting.policy(grace: grace), destinations: [alertmanager, AlertTesting.webhook()]),
            instance: "clearml-probe", stateDirectory: state, transport: transport, clock: clock, jitter: { 1 },
            log: { _ in })
    }

    static func transport(
        _ clock: ManualClock, _ posts: Posts, down: @escaping @Sendable (Date) -> Bool = { _ in false }
    ) -> ScriptedTransport {
        ScriptedTransport { request, _ in
            guard request.url.hasSuffix("/api/v2/alerts") else { return DeliveryResponse(status: 204) }
            if down(clock.now()) { return DeliveryResponse(status: 503, body: "unavailable") }
            posts.add(request, at: clock.now())
            return DeliveryResponse(status: 200)
        }
    }

    /// Runs the pipeline for `seconds`: a report every 30 s, delivery every 10 s (as the sidecar's loop would).
    static func run(_ pipeline: AlertPipeline, _ report: Report, clock: ManualClock, seconds: Double) async {
        let end = clock.now().addingTimeInterval(seconds)
        var step = 0
        while clock.now() < end {
            if step % 3 == 0 { await pipeline.ingest(report, at: clock.now()) }
            await pipeline.deliver(now: clock.now())
            clock.advance(10)
            step += 1
        }
    }

    @Test func anIncidentOpenForAnHourStaysAliveInAlertmanagerAndItsResolvedIsResentFor15Minutes() async throws {
        let clock = ManualClock(F.t0)
        let posts = Posts()
        let transport = Self.transport(clock, posts)
        let pipeline = try Self.pipeline(state: nil, transport: transport, clock: clock)

        await Self.run(pipeline, F.report(failing: [.redis: .critical]), clock: clock, seconds: 3600)
        let firing = posts.all
        let first = try #require(firing.first)
        // At every moment of the hour after the first post, Alertmanager holds an endsAt in the future.
        var moment = first.at
        while moment < clock.now() {
            let latest = firing.filter { $0.at <= moment }.map(\.endsAt).max()
            #expect(latest.map { $0 > moment } == true, "the alert would lapse at \(moment)")
            moment.addTimeInterval(5)
        }
        #expect(firing.allSatisfy { !$0.resolved })
        #expect((55...62).contains(firing.count), "about one post a minute, not a storm: \(firing.count)")

        await Self.run(pipeline, F.healthy(), clock: clock, seconds: 40 * 60)
        let after = posts.all.dropFirst(firing.count)
        let resolvedAt = try #require(after.first?.at)
        #expect(after.allSatisfy { $0.resolved }, "never a firing after the RESOLVED")
        #expect(after.allSatisfy { $0.endsAt <= $0.at })
        #expect(after.count >= 14, "re-sent about every minute: \(after.count)")
        #expect(after.allSatisfy { $0.at.timeIntervalSince(resolvedAt) <= 15 * 60 }, "re-sends stop after 15 min")
        let status = await pipeline.status()
        #expect(status.outbox.isEmpty && status.deadLetters.isEmpty)

        // The other destination heard the incident once each way.
        let hooks = transport.sent.filter { !$0.url.hasSuffix("/api/v2/alerts") }.map(AlertTesting.event).map(\.event)
        #expect(hooks == ["firing", "resolved"])
    }

    @Test func reSendsHaveFreshIdsWaitForTheirLaneAndNeverOvertakeTheResolved() async throws {
        let clock = ManualClock(F.t0)
        let posts = Posts()
        let outage = F.t0.addingTimeInterval(600)...F.t0.addingTimeInterval(900)
        let transport = Self.transport(clock, posts, down: { outage.contains($0) })
        let pipeline = try Self.pipeline(state: nil, transport: transport, clock: clock)

        await Self.run(pipeline, F.report(failing: [.redis: .critical]), clock: clock, seconds: 650)
        // Alertmanager is down: one re-send waits in the lane; no second one piles up behind it.
        let queued = await pipeline.status().outbox.filter { $0.destination == "alertmanager" }
        #expect(queued.count == 1)
        #expect(queued.first?.messageId.contains("-resend-") == true)
        let ids = Set(await pipeline.snapshot.outbox.deadLetters.map(\.message.messageID))
        #expect(ids.isEmpty)
        // The incident resolves while Alertmanager is still down: the RESOLVED waits behind the re-send.
        await Self.run(pipeline, F.healthy(), clock: clock, seconds: 120)
        let lane = await pipeline.status().outbox.filter { $0.destination == "alertmanager" }.map(\.event)
        #expect(lane == ["firing", "resolved"])
        await Self.run(pipeline, F.healthy(), clock: clock, seconds: 30 * 60)
        let all = posts.all
        let firstResolved = try #require(all.firstIndex { $0.resolved })
        #expect(all[firstResolved...].allSatisfy { $0.resolved }, "no firing after the RESOLVED")
        #expect(
            all[firstResolved - 1].at >= outage.upperBound, "the queued re-send went first, once Alertmanager was back")
    }

    @Test func reSendsGoOnAfterARestart() async throws {
        let directory = try TempDirectory("alert-state")
        defer { directory.remove() }
        let clock = ManualClock(F.t0)
        let posts = Posts()
        do {
            let first = try Self.pipeline(state: directory.path, transport: Self.transport(clock, posts), clock: clock)
            await Self.run(first, F.report(failing: [.redis: .critical]), clock: clock, seconds: 120)
        }
        let before = posts.all.count
        #expect(before >= 1)
        let second = try Self.pipeline(
            state: directory.path, transport: Self.transport(clock, posts), clock: clock, grace: 180)
        await Self.run(second, F.report(failing: [.redis: .critical]), clock: clock, seconds: 300)
        let after = posts.all.dropFirst(before)
        #expect(after.count >= 4, "re-sent through the grace period after the restart: \(after.count)")
        #expect(after.allSatisfy { !$0.resolved && $0.endsAt > $0.at })
    }

    @Test func theLedgerForgetsWhatIsOver() throws {
        var resends = AlertmanagerResends()
        let destinations = ["alertmanager": Self.alertmanager]
        var firing = F.message(.firing)
        firing.messageID = "m1"
        resends.delivered(OutboxEntry(message: firing, destination: "alertmanager", enqueuedAt: F.t0), at: F.t0)
        func due(_ seconds: Double, open: Bool = true, busy: Bool = false) -> [String] {
            resends.due(
                now: F.t0.addingTimeInterval(seconds), destinations: destinations,
                openIncidents: open ? [firing.incidentID] : [],
                laneBusy: { _ in busy }, disabled: { _ in false }
            ).map(\.message.messageID)
        }
        #expect(due(30).isEmpty, "not before the resend interval")
        #expect(due(60, busy: true).isEmpty, "not while something waits in the lane")
        #expect(due(60) == ["m1-resend-1"])
        #expect(due(65).isEmpty, "one at a time")
        var copy = firing
        copy.messageID = "m1-resend-1"
        resends.delivered(
            OutboxEntry(message: copy, destination: "alertmanager", enqueuedAt: F.t0), at: F.t0.addingTimeInterval(61))
        #expect(due(121) == ["m1-resend-2"], "a fresh id each time, from the same base")
        #expect(due(300, open: false).isEmpty)
        #expect(resends.items.isEmpty, "an incident closed without a RESOLVED queued is forgotten")

        let resolved = F.message(.resolved)
        resends.delivered(
            OutboxEntry(message: resolved, destination: "alertmanager", enqueuedAt: F.t0), at: resolved.resolvedAt!)
        let resolvedAt = resolved.resolvedAt!.timeIntervalSince(F.t0)
        #expect(due(resolvedAt + 60, open: false).count == 1)
        #expect(due(resolvedAt + 15 * 60, open: false).isEmpty)
        #expect(resends.items.isEmpty, "a RESOLVED is re-sent for 15 minutes only")
    }
}
