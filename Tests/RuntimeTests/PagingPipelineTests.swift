import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// Silences, maintenance and routes where the pipeline decides what pages, on a controlled clock.
@Suite struct PagingPipelineTests {
    typealias F = AlertFixtures

    static func feed(_ pipeline: AlertPipeline, _ report: (Date) -> Report, clock: ManualClock, times: Int = 2) async {
        for _ in 0..<times {
            await pipeline.ingest(report(clock.now()), at: clock.now())
            clock.advance(60)
        }
    }

    static func deliverAll(_ pipeline: AlertPipeline, clock: ManualClock) async {
        for _ in 0..<5 { await pipeline.deliver(now: clock.now()) }
    }

    @Test func aSilenceThatExpiresWhileRedisIsDownPagesThenAndItsResolvedFollows() async throws {
        let state = try TempDirectory()
        defer { state.remove() }
        let clock = ManualClock(F.t0)
        // The silence lives in the state directory, as `clearml-probe silence add` writes it.
        _ = try SilenceStore(directory: state.path).update { silences in
            try silences.add(
                match: "redis", duration: 1800, reason: "Redis migration", createdBy: "ops", now: F.t0, id: "s-redis")
        }
        let transport = ScriptedTransport()
        let pipeline = try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: [AlertTesting.webhook()]),
            instance: "clearml-probe", stateDirectory: state.path, transport: transport, clock: clock,
            jitter: { 1 }, log: { _ in })
        let down = { (date: Date) in F.report(at: date, failing: [.redis: .critical]) }

        await Self.feed(pipeline, down, clock: clock, times: 3)
        await Self.deliverAll(pipeline, clock: clock)
        #expect(transport.sent.isEmpty, "silenced: nothing pages while the silence lasts")
        #expect(await pipeline.snapshot.paging.incidents.values.contains { !$0.paged })

        while clock.now() < F.t0.addingTimeInterval(1800) { await Self.feed(pipeline, down, clock: clock, times: 1) }
        await Self.deliverAll(pipeline, clock: clock)
        #expect(transport.sent.isEmpty, "still silenced until the last report before it expired")
        await Self.feed(pipeline, down, clock: clock, times: 1)  // the first report after the silence expired
        await Self.deliverAll(pipeline, clock: clock)
        #expect(
            transport.accepted.map { AlertTesting.event($0).event } == ["firing"],
            "pages once the silence expired, while still open")

        await Self.feed(pipeline, { F.healthy(at: $0) }, clock: clock, times: 3)
        await Self.deliverAll(pipeline, clock: clock)
        #expect(transport.accepted.map { AlertTesting.event($0).event } == ["firing", "resolved"])
    }

    @Test func anIncidentSilencedFromStartToEndSendsNothingAtAll() async throws {
        let clock = ManualClock(F.t0)
        let transport = ScriptedTransport()
        let silence = Silence(
            id: "s-data", matcher: .init(kind: .layer, value: "data"), reason: "restore",
            createdAt: F.t0, expiresAt: F.t0.addingTimeInterval(3600))
        let pipeline = try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: [AlertTesting.webhook()]),
            instance: "clearml-probe", stateDirectory: nil, transport: transport, clock: clock,
            jitter: { 1 }, silences: { [silence] }, log: { _ in })
        await Self.feed(pipeline, { F.report(at: $0, failing: [.redis: .critical]) }, clock: clock, times: 3)
        await Self.feed(pipeline, { F.healthy(at: $0) }, clock: clock, times: 3)
        await Self.deliverAll(pipeline, clock: clock)
        #expect(transport.sent.isEmpty, "no firing and no RESOLVED for an incident nobody was told about")
        #expect(await pipeline.snapshot.paging.incidents.isEmpty)
    }

    @Test func routesChooseTheDestinationsAndTheResolvedFollowsTheFiring() async throws {
        let clock = ManualClock(F.t0)
        let transport = ScriptedTransport()
        var config = AlertsConfig(
            policy: AlertTesting.policy(),
            destinations: [
                AlertTesting.webhook("http://127.0.0.1:9/chat", name: "chat"),
                AlertTesting.webhook("http://127.0.0.1:9/oncall", name: "oncall"),
            ])
        config.routes = AlertRoutes(
            rules: [.init(name: "data", selector: AlertSelector(layers: [.data]), destinations: ["oncall"])],
            defaultDestinations: ["chat"])
        let window = MaintenanceWindow(
            name: "es-upgrade", reason: "ES 8.17", selector: AlertSelector(services: [.elasticsearch]),
            schedule: .once(start: F.t0, end: F.t0.addingTimeInterval(86400)))
        config.maintenance = MaintenancePlan(windows: [window])
        let pipeline = try AlertPipeline(
            config: config, instance: "clearml-probe", stateDirectory: nil, transport: transport,
            clock: clock, jitter: { 1 }, silences: { [] }, log: { _ in })
        await Self.feed(
            pipeline, { F.report(at: $0, failing: [.redis: .critical, .elasticsearch: .warning]) }, clock: clock,
            times: 3)
        await Self.feed(pipeline, { F.healthy(at: $0) }, clock: clock, times: 3)
        await Self.deliverAll(pipeline, clock: clock)
        let sent = transport.accepted.map { ($0.url, AlertTesting.event($0)) }
        #expect(
            sent.map(\.0) == ["http://127.0.0.1:9/oncall", "http://127.0.0.1:9/oncall"],
            "Redis (data) goes to oncall only")
        #expect(sent.map(\.1.event) == ["firing", "resolved"])
        #expect(!sent.contains { $0.1.incident.contains("/elasticsearch/") }, "Elasticsearch is in maintenance")
    }
}
