import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// Real deliveries (libcurl) to `Tests/doubles/webhook_receiver.py`, answering as scripted.
@Suite(.serialized) struct WebhookReceiverDeliveryTests {
    static let receiver = try! PythonDouble("webhook_receiver.py")
    typealias F = AlertFixtures

    static func reset(_ responses: [[String: Any]], path: String = "/hook") async throws {
        try await receiver.control("/reset", [:])
        try await receiver.control("/script", ["path": path, "responses": responses])
    }

    static func url(_ path: String = "/hook/T0K3N") -> String { "http://127.0.0.1:\(receiver.port("webhook"))\(path)" }

    static func pipeline(_ destination: any Destination, clock: ManualClock) throws -> AlertPipeline {
        try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: [destination]), instance: "clearml-probe",
            stateDirectory: nil, clock: clock, jitter: { 1 }, log: { _ in })
    }

    /// Firing then resolved of one Redis incident, queued.
    static func queueIncident(_ pipeline: AlertPipeline, clock: ManualClock) async {
        for report in [
            F.report(failing: [.redis: .critical]), F.report(failing: [.redis: .critical]), F.healthy(), F.healthy(),
        ] {
            await pipeline.ingest(report, at: clock.now())
            clock.advance(1)
        }
    }

    struct Received {
        var event: String
        var id: String
        var signed: Bool
        var status: Int?
    }

    static func received() async throws -> [Received] {
        let verifier = try StandardWebhooks(secret: Secret(AlertTesting.secret))
        return try await receiver.requests().map { request in
            let headers = Dictionary(
                ((request["headers"] as? [[String]]) ?? []).map { ($0[0].lowercased(), $0[1]) },
                uniquingKeysWith: { a, _ in a })
            let body = Data(base64Encoded: request["body_base64"] as? String ?? "") ?? Data()
            let json = JSONValue.parse(body)
            var event = "?"
            if case .string(let value)? = json?.at("data.event") { event = value }
            let id = headers["webhook-id"] ?? ""
            let signed = verifier.verify(
                id: id, timestamp: Int(headers["webhook-timestamp"] ?? "") ?? 0, body: body,
                signatureHeader: headers["webhook-signature"] ?? "")
            return Received(
                event: event, id: id, signed: signed, status: (request["response"] as? [String: Any])?["status"] as? Int
            )
        }
    }

    @Test func retriesHonourRetryAfterKeepOrderAndIdentity() async throws {
        try await Self.reset([
            ["status": 429, "headers": ["Retry-After": "3"]], ["status": 500, "body": "oops"], ["status": 204],
        ])
        let clock = ManualClock(F.t0)
        let pipeline = try Self.pipeline(AlertTesting.webhook(Self.url()), clock: clock)
        await Self.queueIncident(pipeline, clock: clock)
        var rounds: [AlertPipeline.Round] = []
        for _ in 0..<20 {
            rounds.append(await pipeline.deliver(now: clock.now()))
            clock.advance(1)
        }
        let got = try await Self.received()
        #expect(got.map(\.event) == ["firing", "firing", "firing", "resolved"])
        #expect(got.map(\.status) == [429, 500, 204, 200])
        #expect(Set(got.prefix(3).map(\.id)).count == 1, "the same webhook-id on every retry")
        #expect(got.allSatisfy { $0.signed }, "each attempt is signed for its own timestamp")
        let status = await pipeline.status()
        #expect(status.outbox.isEmpty && status.deadLetters.isEmpty)
        // Retry-After 3 s was the minimum before the second attempt.
        let firstRetryRound = rounds.indices.filter { rounds[$0].attempted > 0 }
        #expect(firstRetryRound.count >= 3 && firstRetryRound[1] - firstRetryRound[0] >= 3)
    }

    @Test func aGoneEndpointDeadLettersAndDisablesTheDestination() async throws {
        try await Self.reset([["status": 410, "body": "gone"]])
        let clock = ManualClock(F.t0)
        let pipeline = try Self.pipeline(AlertTesting.webhook(Self.url()), clock: clock)
        await Self.queueIncident(pipeline, clock: clock)
        for _ in 0..<3 {
            await pipeline.deliver(now: clock.now())
            clock.advance(10)
        }
        let got = try await Self.received()
        #expect(got.map(\.status) == [410], "nothing more is sent to a disabled destination")
        let status = await pipeline.status()
        #expect(status.deadLetters.map(\.event) == ["firing", "resolved"])
        #expect(status.destinations.first?.disabled?.contains("410") == true)
        #expect(!String(decoding: status.json(), as: UTF8.self).contains("T0K3N"))
    }

    @Test func aHangingReceiverIsBoundedByTheTimeoutAndRetried() async throws {
        try await Self.reset([["hang": true]])
        let clock = ManualClock(F.t0)
        let destination = try WebhookDestination(
            name: "hooks", url: Secret(Self.url()), secret: Secret(AlertTesting.secret), timeout: 1)
        let pipeline = try Self.pipeline(destination, clock: clock)
        await Self.queueIncident(pipeline, clock: clock)
        let started = Date()
        let first = await pipeline.deliver(now: clock.now())
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(first.retried == 1)
        clock.advance(60)
        await pipeline.deliver(now: clock.now())
        await pipeline.deliver(now: clock.now())
        let got = try await Self.received()
        #expect(got.map(\.event) == ["firing", "firing", "resolved"])
        #expect(got[0].id == got[1].id)
    }

    @Test func slackAnswersAreClassifiedAsSlackSaysThem() async throws {
        try await Self.reset([["preset": "slack_no_service"]], path: "/services/")
        let clock = ManualClock(F.t0)
        let slack = SlackDestination(name: "ops", url: Secret(Self.url("/services/T1/B2/SeCrEt")))
        let pipeline = try Self.pipeline(slack, clock: clock)
        let results = await pipeline.sendTest(now: clock.now())
        #expect(
            results.map(\.outcome) == [
                .permanent(reason: "slack: HTTP 404 no_service: the webhook was revoked or its channel is gone")
            ])
        try await Self.reset([["preset": "slack_ok"]], path: "/services/")
        let ok = await pipeline.sendTest(now: clock.now())
        #expect(ok.map(\.outcome) == [.delivered])
        let request = try #require(try await Self.receiver.requests().first)
        let body = Data(base64Encoded: request["body_base64"] as? String ?? "") ?? Data()
        #expect(JSONValue.parse(body)?["text"] != nil && JSONValue.parse(body)?["attachments"] != nil)
    }
}
