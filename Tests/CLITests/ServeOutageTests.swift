import Foundation
import TestSupport
import Testing

/// A real `clearml-probe serve` with every check configured (ingress over HTTPS through a real nginx, the ClearML
/// double, a real redis-server, the MongoDB and Elasticsearch doubles), a 2 s interval, a short grace and nothing but
/// the generic webhook: what a person on call receives for each outage, one at a time with the stack healthy in
/// between. Wanted: silence while healthy; per outage exactly one FIRING naming the service that broke and exactly
/// one RESOLVED of the same incident after the heal, nothing else. One set of servers and one serve process for the
/// whole suite (the kill test restarts it with the same state directory; the first-start test with an empty one).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServeOutageTests {
    static let stack: Result<StackUnderTest, Error> = Result {
        try StackUnderTest(StackUnderTest.Settings(binary: Binary.path, interval: 2, grace: 6))
    }

    static let everyCheck: Set<String> = [
        "ingress.routes", "ingress.tls", "ingress.headers", "ingress.upload_limit", "apiserver.ping", "apiserver.auth",
        "webserver.ui",
        "fileserver.roundtrip", "agents.workers", "queues.backlog", "mongo.ping", "mongo.write", "mongo.status",
        "redis.latency", "redis.write", "redis.status", "elasticsearch.health", "apiserver.login_mode",
        "fileserver.volume",
        "webserver.browser", "tasks.stale",
    ]

    @Test func aHealthyStackSendsNothing() async throws {
        let stack = try Self.stack.get()
        let received = try await stack.prepare()
        print("healthy stack after the grace: \(received.count) message(s)" + received.map { "\n  \($0)" }.joined())
        #expect(
            received.isEmpty,
            "messages while everything was healthy:\n\(received.map(\.description).joined(separator: "\n"))")
        let reported = await stack.reportedCheckIDs()
        #expect(reported == Self.everyCheck, "checks not reported: \(Self.everyCheck.subtracting(reported).sorted())")
        // What Prometheus scrapes from this serve, every check configured, passes Prometheus's own linter.
        let promtool = "/usr/bin/promtool"
        if FileManager.default.isExecutableFile(atPath: promtool) || ProcessInfo.processInfo.environment["CI"] != nil {
            let metrics = try #require(await stack.metricsText(), "serve answered no /metrics")
            let (status, output) = try MetricsExpositionLint.run(promtool, ["check", "metrics"], input: metrics)
            #expect(status == 0 && output.isEmpty, "promtool check metrics: \(output)")
        }
    }

    @Test(arguments: StackUnderTest.Outage.allCases)
    func oneOutageGivesOneFiringAndItsResolved(_ outage: StackUnderTest.Outage) async throws {
        let stack = try Self.stack.get()
        let record = try await stack.run(outage)
        print(record.report)
        Self.expectAsWanted(record)
    }

    @Test func killedInTheMiddleOfARedisOutageAndRestartedStillOneFiringAndOneResolved() async throws {
        let stack = try Self.stack.get()
        let record = try await stack.run(.redis, restart: .killedAfterFiring)
        print(record.report)
        Self.expectAsWanted(record)
    }

    /// A sidecar deployed (or its state volume lost) while Redis is down: after its grace it pages Redis, not one of
    /// the services that fail because of it and happen to report first.
    @Test func startedForTheFirstTimeDuringARedisOutageStillOneFiringAndOneResolved() async throws {
        let stack = try Self.stack.get()
        let record = try await stack.run(.redis, restart: .startedDuringFault)
        print(record.report)
        Self.expectAsWanted(record)
    }

    /// One FIRING naming the root cause, its RESOLVED after the heal, nothing else, nothing while healthy. The
    /// record's report (printed above) has every message with its time.
    static func expectAsWanted(_ record: OutageRecord, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            record.healthyBefore == nil, "the stack was not healthy before the fault", sourceLocation: sourceLocation)
        #expect(
            record.beforeFault.map(\.description) == [], "messages while healthy, before the fault",
            sourceLocation: sourceLocation)
        #expect(
            record.firings.map(\.service) == [record.outage.rootCause], "the services the FIRING messages named",
            sourceLocation: sourceLocation)
        #expect(
            record.resolved != nil, "a RESOLVED of the FIRING's incident after the heal", sourceLocation: sourceLocation
        )
        #expect(
            record.extra.map(\.description) == [], "messages besides the FIRING and its RESOLVED",
            sourceLocation: sourceLocation)
    }
}
