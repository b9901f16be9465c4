import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

@Suite struct AlertPipelineTests {
    typealias F = AlertFixtures

    static func pipeline(
        state: String?, transport: ScriptedTransport, clock: ManualClock, grace: Double = 0,
        destinations: [any Destination] = [AlertTesting.webhook()]
    ) throws -> AlertPipeline {
        try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(grace: grace), destinations: destinations),
            instance: "clearml-probe", stateDirectory: state, transport: transport, clock: clock,
            jitter: { 1 }, log: { _ in })
    }

    /// Two reports a minute apart at the clock's time.
    static func feed(_ pipeline: AlertPipeline, _ report: Report, clock: ManualClock, times: Int = 2) async {
        for _ in 0..<times {
            await pipeline.ingest(report, at: clock.now())
            clock.advance(60)
        }
    }

    @Test func aDestinationDownForAnHourGetsEverythingInOrderAfterwards() async throws {
        let clock = ManualClock(F.t0)
        let back = F.t0.addingTimeInterval(3600)
        let transport = ScriptedTransport()
        transport.script { _, _ in
            clock.now() < back ? DeliveryResponse(status: 503, body: "down") : DeliveryResponse(status: 204)
        }
        let pipeline = try Self.pipeline(state: nil, transport: transport, clock: clock)

        // Redis fails and heals, then Elasticsearch fails and stays down, all while the receiver is down.
        await Self.feed(pipeline, F.report(failing: [.redis: .critical]), clock: clock)
        await pipeline.deliver(now: clock.now())
        await Self.feed(pipeline, F.report(failing: [.elasticsearch: .warning]), clock: clock, times: 3)
        await pipeline.deliver(now: clock.now())
        while clock.now() < F.t0.addingTimeInterval(2 * 3600) {
            clock.advance(15)
            await pipeline.deliver(now: clock.now())
        }
        let status = await pipeline.status()
        #expect(status.outbox.isEmpty, "everything delivered")
        #expect(status.deadLetters.isEmpty)
        #expect(status.delivered == 3)
        let accepted = transport.accepted.map(AlertTesting.event)
        #expect(
            accepted.filter { $0.incident.contains("/redis/") }.map(\.event) == ["firing", "resolved"],
            "in order, once each")
        #expect(accepted.filter { $0.incident.contains("/elasticsearch/") }.map(\.event) == ["firing"])
        let ids = Dictionary(grouping: transport.sent.map(AlertTesting.event), by: \.id)
        #expect(ids.count == 3, "every retry of a message carries the same webhook-id")
        // Retries were spaced out (exponential backoff with a cap), not a storm.
        #expect(transport.sent.count < 60, "\(transport.sent.count) attempts")
    }

    @Test func restartBetweenFiringAndResolveSendsExactlyOneResolvedAndNoSecondFiring() async throws {
        let directory = try TempDirectory("alert-state")
        defer { directory.remove() }
        let clock = ManualClock(F.t0)
        let transport = ScriptedTransport()
        let down = F.report(failing: [.redis: .critical])
        do {
            let first = try Self.pipeline(state: directory.path, transport: transport, clock: clock, grace: 0)
            await Self.feed(first, down, clock: clock)
            await first.deliver(now: clock.now())
        }
        #expect(transport.sent.map(AlertTesting.event).map(\.event) == ["firing"])
        // "Killed": the pipeline is gone; a new one starts from the state directory, with a grace period.
        clock.advance(600)
        let second = try Self.pipeline(state: directory.path, transport: transport, clock: clock, grace: 180)
        for _ in 0..<6 {  // still failing, through the grace period and after it
            await second.ingest(down, at: clock.now())
            await second.deliver(now: clock.now())
            clock.advance(60)
        }
        #expect(transport.sent.map(AlertTesting.event).map(\.event) == ["firing"], "no second firing")
        for _ in 0..<3 {
            await second.ingest(F.healthy(), at: clock.now())
            await second.deliver(now: clock.now())
            clock.advance(60)
        }
        let events = transport.sent.map(AlertTesting.event)
        #expect(events.map(\.event) == ["firing", "resolved"])
        #expect(Set(events.map(\.incident)).count == 1)
    }

    @Test func clearedWhileDownIsResolvedAfterTheRestart() async throws {
        let directory = try TempDirectory("alert-state")
        defer { directory.remove() }
        let clock = ManualClock(F.t0)
        let transport = ScriptedTransport()
        do {
            let first = try Self.pipeline(state: directory.path, transport: transport, clock: clock)
            await Self.feed(first, F.report(failing: [.mongo: .critical]), clock: clock)
            await first.deliver(now: clock.now())
        }
        clock.advance(3600)
        let second = try Self.pipeline(state: directory.path, transport: transport, clock: clock, grace: 120)
        for _ in 0..<4 {
            await second.ingest(F.healthy(), at: clock.now())
            await second.deliver(now: clock.now())
            clock.advance(60)
        }
        #expect(transport.sent.map(AlertTesting.event).map(\.event) == ["firing", "resolved"])
    }

    @Test func aMessageQueuedBeforeACrashIsSentAfterItWithTheSameIdentity() async throws {
        let directory = try TempDirectory("alert-state")
        defer { directory.remove() }
        let clock = ManualClock(F.t0)
        let hanging = ScriptedTransport { _, _ in
            DeliveryResponse(status: nil, transportError: "timeout waiting for the first byte of the response")
        }
        do {
            let first = try Self.pipeline(state: directory.path, transport: hanging, clock: clock)
            await Self.feed(first, F.report(failing: [.redis: .critical]), clock: clock)
            await first.deliver(now: clock.now())
        }
        let transport = ScriptedTransport()
        let second = try Self.pipeline(state: directory.path, transport: transport, clock: clock)
        clock.advance(3600)
        await second.deliver(now: clock.now())
        let before = hanging.sent.map { $0.headers["webhook-id"] }
        let after = transport.sent.map { $0.headers["webhook-id"] }
        #expect(before.count == 1 && after.count == 1)
        #expect(before == after)
    }

    @Test func statusIsJSONWithoutSecrets() async throws {
        let clock = ManualClock(F.t0)
        let url = "https://hooks.example.com/in/SeCrEtPaTh?token=SeCrEt"
        let transport = ScriptedTransport { _, _ in DeliveryResponse(status: 400, body: "bad payload") }
        let pipeline = try Self.pipeline(
            state: nil, transport: transport, clock: clock, destinations: [AlertTesting.webhook(url)])
        await Self.feed(pipeline, F.report(failing: [.redis: .critical]), clock: clock)
        await pipeline.deliver(now: clock.now())
        let status = await pipeline.status()
        #expect(status.deadLetters.count == 1)
        #expect(status.deadLetters.first?.reason == "webhook: HTTP 400 bad payload")
        #expect(status.incidents.map(\.service) == [.redis])
        let json = String(decoding: status.json(), as: UTF8.self)
        #expect(json.contains("\"dead_letters\""))
        #expect(json.contains("\"url\":\"https://hooks.example.com\""))
        #expect(!json.contains("SeCrEt"))
        #expect(!json.contains(String(AlertTesting.secret.dropFirst(6))))
    }

    @Test func runDeliversAndStopsWhenCancelled() async throws {
        let transport = ScriptedTransport()
        let pipeline = try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: [AlertTesting.webhook()]),
            instance: "clearml-probe", stateDirectory: nil, transport: transport, log: { _ in })
        let task = Task { await pipeline.run(tick: 0.05) }
        let now = Date()
        await pipeline.ingest(F.report(failing: [.redis: .critical]), at: now)
        await pipeline.ingest(F.report(failing: [.redis: .critical]), at: now.addingTimeInterval(1))
        let deadline = Date().addingTimeInterval(5)
        while transport.sent.isEmpty && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        task.cancel()
        await task.value
        #expect(transport.sent.count == 1)
    }
}
