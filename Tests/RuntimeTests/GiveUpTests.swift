import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// A firing that could not be delivered for `give_up_after` (24 h) goes to the dead letters with its pair, never a
/// RESOLVED alone (docs/alerting.md).
@Suite struct GiveUpTests {
    typealias F = AlertFixtures
    static let target = [Outbox.Target(name: "a", fingerprint: "fa")]
    static let limits = AlertPolicy()
    static let day = 24 * 3600.0

    static func fail(_ outbox: inout Outbox, _ id: String, at date: Date) {
        outbox.record(
            id, outcome: .retry(after: nil, reason: "HTTP 503 down"), disablesDestination: false, fingerprint: "fa",
            now: date, backoff: Backoff(), unit: 1, limits: limits)
    }

    @Test func anOpenIncidentsUndeliverableFiringIsGivenUpAndItsResolvedFollowsItLater() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: Self.target, now: F.t0, limits: Self.limits)
        Self.fail(&outbox, "a/f1", at: F.t0)
        #expect(
            outbox.due(now: F.t0.addingTimeInterval(Self.day - 60), excluding: [], limits: Self.limits).map(\.id) == [
                "a/f1"
            ],
            "kept and retried within the cap")
        let late = F.t0.addingTimeInterval(Self.day + 60)
        #expect(outbox.due(now: late, excluding: [], limits: Self.limits).isEmpty)
        #expect(outbox.deadLetters.map(\.message.messageID) == ["f1"])
        #expect(outbox.deadLetters.first?.reason.hasPrefix("given up: not delivered for") == true)
        #expect(outbox.deadLetters.first?.reason.contains("HTTP 503 down") == true)
        // While it stays open, no reminder goes where it was never heard of; its RESOLVED joins the firing.
        outbox.enqueue(F.message(.reminder, id: "m1", at: late), to: Self.target, now: late, limits: Self.limits)
        #expect(outbox.entries.isEmpty)
        outbox.enqueue(F.message(.resolved, id: "r1", at: late), to: Self.target, now: late, limits: Self.limits)
        #expect(outbox.entries.isEmpty, "never a RESOLVED alone")
        #expect(outbox.deadLetters.map(\.message.messageID) == ["f1", "r1"])
        #expect(outbox.gaveUp.isEmpty)
    }

    @Test func aQueuedPairIsGivenUpTogether() {
        var limits = AlertPolicy()
        limits.maxMessageAge = 48 * 3600  // the stale-pair drop would otherwise take it first
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: Self.target, now: F.t0, limits: limits)
        outbox.enqueue(
            F.message(.firing, incident: "i2", id: "f2"), to: Self.target, now: F.t0.addingTimeInterval(3600),
            limits: limits)
        outbox.enqueue(
            F.message(.resolved, id: "r1"), to: Self.target, now: F.t0.addingTimeInterval(7200), limits: limits)
        let due = outbox.due(now: F.t0.addingTimeInterval(Self.day + 60), excluding: [], limits: limits)
        #expect(due.map(\.id) == ["a/f2"], "the other incident's firing is younger than the cap")
        #expect(outbox.deadLetters.map(\.message.messageID) == ["f1", "r1"])
        #expect(outbox.deadLetters.last?.reason.hasPrefix("not sent: its firing was given up") == true)
    }

    @Test func onceTheFiringWasHeardOnlyAStaleUpdateIsGivenUpAndTheResolvedStillGoes() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: Self.target, now: F.t0, limits: Self.limits)
        outbox.record(
            "a/f1", outcome: .delivered, disablesDestination: false, fingerprint: "fa", now: F.t0, backoff: Backoff(),
            unit: 0, limits: Self.limits)
        outbox.enqueue(
            F.message(.firing, id: "f2"), to: Self.target, now: F.t0.addingTimeInterval(60), limits: Self.limits)
        let late = F.t0.addingTimeInterval(Self.day + 120)
        #expect(outbox.due(now: late, excluding: [], limits: Self.limits).isEmpty)
        #expect(outbox.deadLetters.map(\.message.messageID) == ["f2"])
        outbox.enqueue(F.message(.resolved, id: "r1", at: late), to: Self.target, now: late, limits: Self.limits)
        #expect(outbox.due(now: late, excluding: [], limits: Self.limits).map(\.id) == ["a/r1"])
        // A RESOLVED is never given up, however long it waits.
        #expect(
            outbox.due(now: late.addingTimeInterval(3 * Self.day), excluding: [], limits: Self.limits).map(\.id) == [
                "a/r1"
            ])
    }

    @Test func aDestinationDownForMoreThanADayGetsNeitherHalfOfThePairAndSaysSo() async throws {
        let clock = ManualClock(F.t0)
        let transport = ScriptedTransport { _, _ in DeliveryResponse(status: 503, body: "down") }
        let pipeline = try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: [AlertTesting.webhook()]),
            instance: "clearml-probe", stateDirectory: nil, transport: transport, clock: clock,
            jitter: { 1 }, log: { _ in })
        for _ in 0..<2 {
            await pipeline.ingest(F.report(failing: [.redis: .critical]), at: clock.now())
            clock.advance(60)
        }
        while clock.now() < F.t0.addingTimeInterval(Self.day + 3600) {
            await pipeline.deliver(now: clock.now())
            clock.advance(900)
        }
        var status = await pipeline.status()
        #expect(status.outbox.isEmpty)
        #expect(status.deadLetters.map(\.event) == ["firing"])
        for _ in 0..<2 {
            await pipeline.ingest(F.healthy(), at: clock.now())
            await pipeline.deliver(now: clock.now())
            clock.advance(60)
        }
        status = await pipeline.status()
        #expect(status.outbox.isEmpty)
        #expect(status.deadLetters.map(\.event) == ["firing", "resolved"])
        #expect(
            transport.sent.map(AlertTesting.event).allSatisfy { $0.event == "firing" },
            "the RESOLVED was never sent alone")
    }

    @Test func anOutboxSavedBeforeGiveUpExistedStillLoads() throws {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: Self.target, now: F.t0, limits: Self.limits)
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(outbox)) as? [String: Any])
        json["gaveUp"] = nil
        let decoded = try JSONDecoder().decode(Outbox.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(decoded == outbox)
    }

    @Test func giveUpAfterIsConfigurable() throws {
        let root = try ConfigMap.parse(
            yaml: "alerting:\n  give_up_after: 6h\n", file: "alerts.yaml",
            substitution: EnvironmentSubstitution(environment: [:]))
        #expect(try AlertPolicy.parse(try root.section("alerting")).giveUpAfter == 6 * 3600)
        #expect(AlertPolicy().giveUpAfter == 24 * 3600)
    }
}
