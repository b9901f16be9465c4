import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// A burst of incidents goes out at each platform's pace (RateLimit), not as a volley of 429s.
@Suite struct DeliveryPacingTests {
    typealias F = AlertFixtures

    /// A receiver as strict as Slack: a second message within a second of the previous one gets 429.
    final class StrictReceiver: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = NSLock()
        private var times: [Date] = []
        private var refused = 0
        let clock: ManualClock
        let spacing: Double

        init(clock: ManualClock, spacing: Double) {
            self.clock = clock
            self.spacing = spacing
        }

        func answer(headers: [String: String] = [:]) -> DeliveryResponse {
            lock.withLock {
                let now = clock.now()
                if let last = times.last, now.timeIntervalSince(last) < spacing {
                    refused += 1
                    return DeliveryResponse(status: 429, headers: ["Retry-After": "30"], body: "rate_limited")
                }
                times.append(now)
                return DeliveryResponse(status: 200, headers: headers, body: "ok")
            }
        }

        var accepted: [Date] { lock.withLock { times } }
        var refusals: Int { lock.withLock { refused } }
    }

    static let slack = SlackDestination(name: "slack", url: Secret("https://hooks.slack.com/services/T1/B2/SeCrEt"))
    /// Every data store down at once: three root-cause incidents in the same report.
    static let stackDown = F.report(failing: [.mongo: .critical, .redis: .critical, .elasticsearch: .critical])

    static func pipeline(_ destinations: [any Destination], transport: ScriptedTransport, clock: ManualClock) throws
        -> AlertPipeline
    {
        try AlertPipeline(
            config: AlertsConfig(policy: AlertTesting.policy(), destinations: destinations), instance: "clearml-probe",
            stateDirectory: nil, transport: transport, clock: clock, jitter: { 1 }, log: { _ in })
    }

    static func deliverEvery(_ step: Double, for seconds: Double, _ pipeline: AlertPipeline, clock: ManualClock) async {
        let end = clock.now().addingTimeInterval(seconds)
        while clock.now() <= end {
            await pipeline.deliver(now: clock.now())
            clock.advance(step)
        }
    }

    @Test func aWholeStackDownReachesSlackOneMessageASecondWithout429s() async throws {
        let clock = ManualClock(F.t0)
        let receiver = StrictReceiver(clock: clock, spacing: 1)
        let transport = ScriptedTransport { request, _ in
            request.url.contains("hooks.slack.com") ? receiver.answer() : DeliveryResponse(status: 204)
        }
        let pipeline = try Self.pipeline([Self.slack, AlertTesting.webhook()], transport: transport, clock: clock)
        await pipeline.ingest(Self.stackDown, at: clock.now())
        clock.advance(30)
        await pipeline.ingest(Self.stackDown, at: clock.now())

        let first = await pipeline.deliver(now: clock.now())
        #expect(first.delivered == 4, "one to Slack, all three to the webhook, which has no limit")
        #expect(first.paced == 2)
        await Self.deliverEvery(0.25, for: 5, pipeline, clock: clock)

        #expect(receiver.refusals == 0, "no 429 drawn")
        let times = receiver.accepted
        #expect(times.count == 3)
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later.timeIntervalSince(earlier) >= 1)
            #expect(later.timeIntervalSince(earlier) <= 1.5, "at the platform's pace, not slower")
        }
        #expect(await pipeline.status().outbox.isEmpty)
    }

    @Test func discordsRateLimitHeadersHoldTheNextMessage() async throws {
        let clock = ManualClock(F.t0)
        let receiver = StrictReceiver(clock: clock, spacing: 0)
        let transport = ScriptedTransport { _, index in
            // The webhook's bucket is empty after the first message, for 4 s.
            receiver.answer(
                headers: index == 0
                    ? ["X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4.0"] : ["X-RateLimit-Remaining": "3"])
        }
        let discord = DiscordDestination(
            config: try DiscordConfig(url: "https://discord.com/api/webhooks/1/DISCORDSECRET"))
        let pipeline = try Self.pipeline([discord], transport: transport, clock: clock)
        let redisDown = F.report(failing: [.redis: .critical])
        for _ in 0..<2 {
            await pipeline.ingest(redisDown, at: clock.now())
            clock.advance(0.1)
        }
        await pipeline.deliver(now: clock.now())
        // Another incident opens a moment later: Discord's own budget (5 per 2 s) would allow it at once.
        for _ in 0..<2 {
            await pipeline.ingest(F.report(failing: [.redis: .critical, .mongo: .critical]), at: clock.now())
            clock.advance(0.1)
        }
        await Self.deliverEvery(0.5, for: 8, pipeline, clock: clock)

        let times = receiver.accepted.map { $0.timeIntervalSince(receiver.accepted[0]) }
        #expect(times.count == 2)
        #expect(
            times.last.map { (4...4.6).contains($0) } == true,
            "not before X-RateLimit-Reset-After, and right after it: \(times)")
    }

    @Test func tokenBucketsRefillAtTheirRateUpToTheBurst() {
        var bucket = TokenBucket(.messages(5, per: 2), now: F.t0)
        for _ in 0..<5 { bucket.take(at: F.t0) }
        #expect(bucket.available(at: F.t0) < 1)
        #expect(bucket.nextToken(after: F.t0) == F.t0.addingTimeInterval(0.4))
        #expect(bucket.available(at: F.t0.addingTimeInterval(60)) == 5, "never more than the burst")

        var pacer = DeliveryPacer()
        let telegram = RateLimit([.messages(1, per: 1), .messages(20, per: 60)])
        var sent = 0
        var now = F.t0
        while now < F.t0.addingTimeInterval(120) {
            if pacer.admit("tg", limit: telegram, now: now) { sent += 1 }
            now.addTimeInterval(0.5)
        }
        // Never more than 1/s, and at most the burst of 20 plus 20 a minute: 20 + 120 s / 3 = 60.
        #expect((57...60).contains(sent), "\(sent)")
        let unlimited = pacer.admit("webhook", limit: nil, now: now)
        #expect(unlimited)
        #expect(RateLimit.platformDefault(.slack) == .onePerSecond)
        #expect(RateLimit.platformDefault(.alertmanager) == nil)
    }
}
