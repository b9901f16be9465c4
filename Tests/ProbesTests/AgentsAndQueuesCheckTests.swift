import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `agents.workers` and `queues.backlog` against the ClearML double's workers and queues.
@Suite(.serialized)
final class AgentsAndQueuesCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    func run(
        _ checks: String = "  agents.workers: {}\n  queues.backlog: {}",
        only: Set<CheckID> = [.agentsWorkers, .queuesBacklog, .apiserverAuth]
    ) async throws -> Report {
        await clearml.run(try clearml.loaded(checks: checks + "\n  apiserver.auth: {}"), only: only)
    }

    static func ago(_ seconds: Double) -> Double { Date().timeIntervalSince1970 - seconds }

    @Test func defaultStackIsHealthyAndSubWorkersNeverBecomeTargets() async throws {
        let report = try await run()
        let services = try #require(report.result("agents.workers/services"))
        #expect(services.status == .ok, "\(services.summary)")
        #expect(services.summary.contains("1 worker on queue services"))
        #expect(report.result("queues.backlog/default")?.status == .ok)
        #expect(report.result("queues.backlog/services")?.summary.contains("empty, 1 worker listens") == true)
        for result in report.results {
            #expect(!result.key.contains(":service:") && !result.summary.contains(":service:"), "\(result.key)")
            #expect(result.metrics.keys.allSatisfy { !$0.contains("clearml-services") })
        }
        let requests = try await clearml.double.requests()
        let queues = try #require(
            requests.first {
                ($0["path"] as? String)?.contains("queues.get_all") == true
                    && ($0["body"] as? String)?.contains("max_task_entries") == true
            })
        #expect((queues["body"] as? String)?.contains("\"max_task_entries\":100") == true)
        #expect(try await clearml.count("api", "auth.login") == 1)
    }

    @Test func missingServicesAgentIsCriticalAndItsBacklogASymptom() async throws {
        try await clearml.state([
            "workers": [["id": "clearml-services", "queues": ["services"], "last_activity_time": Self.ago(700)]],
            "queues": [["name": "services", "entries": [["task": "t1", "added": Self.ago(120)]]]],
        ])
        let report = try await run()
        let services = try #require(report.result("agents.workers/services"))
        #expect(services.status == .critical)
        #expect(services.summary.contains("no worker listening to queue services"))
        #expect(services.role == .rootCause)
        let backlog = try #require(report.result("queues.backlog/services"))
        #expect(backlog.status == .warning)
        #expect(backlog.summary.contains("1 task waits on queue services and no worker listens"))
        #expect(backlog.rootCause == "agents.workers/services")
    }

    @Test func expectedWorkersAreConfigurable() async throws {
        try await clearml.state([
            "workers": [
                ["id": "gpu-1", "queues": ["gpu"], "last_activity_time": NSNull()],
                ["id": "clearml-services", "queues": ["services"], "last_activity_time": NSNull()],
            ]
        ])
        let report = try await run(
            "  agents.workers:\n    expected: {gpu: 2, services: 1}\n    max_age: 5m", only: [.agentsWorkers])
        #expect(report.result("agents.workers/gpu")?.status == .warning)
        #expect(report.result("agents.workers/gpu")?.summary.contains("only 1 worker") == true)
        #expect(report.result("agents.workers/services")?.status == .ok)

        let none = try await run("  agents.workers:\n    expected: {}", only: [.agentsWorkers])
        #expect(none.results.count == 1)
        #expect(none.result("agents.workers")?.status == .ok)
        #expect(none.result("agents.workers")?.summary.contains("no workers expected") == true)
    }

    @Test func oldWaitingTaskWithAListenerIsAWarning() async throws {
        try await clearml.state([
            "queues": [
                [
                    "name": "default",
                    "entries": [["task": "a", "added": Self.ago(2700)], ["task": "b", "added": Self.ago(60)]],
                ]
            ],
            "workers": [
                ["id": "w1", "queues": ["default"], "last_activity_time": NSNull()],
                ["id": "clearml-services", "queues": ["services"], "last_activity_time": NSNull()],
            ],
        ])
        let report = try await run()
        let backlog = try #require(report.result("queues.backlog/default"))
        #expect(backlog.status == .warning)
        #expect(
            backlog.summary.contains("has waited 45 min") && backlog.summary.contains("1 worker listens"),
            "\(backlog.summary)")
        #expect(backlog.metrics["waiting_tasks"] == 2)
        #expect((backlog.metrics["oldest_wait_seconds"] ?? 0) >= 2690)
        #expect(backlog.role == .rootCause)
    }

    @Test func taskEntriesAndQueueCountAreBounded() async throws {
        let entries = (0..<30).map { ["task": "t\($0)", "added": Self.ago(10)] as [String: Any] }
        try await clearml.state([
            "queues": [["name": "a", "entries": entries], ["name": "b"], ["name": "c", "entries": entries]]
        ])
        let checks = "  queues.backlog:\n    max_task_entries: 5\n    max_queues: 2\n    no_worker_status: critical"
        let report = try await run(checks, only: [.queuesBacklog])
        let a = try #require(report.result("queues.backlog/a"))
        #expect(a.status == .critical)
        #expect(a.summary.contains("at least 5 tasks"))
        #expect(report.result("queues.backlog/b")?.status == .ok)
        let others = try #require(report.result("queues.backlog/\(QueuesBacklogCheck.othersTarget)"))
        #expect(others.status == .critical)
        #expect(others.summary.contains("1 of 1 more queue has a problem"))
        #expect(report.result("queues.backlog/c") == nil)
    }

    @Test func redisDownIsASymptomOfAuth() async throws {
        try await clearml.scenario(api: "redis_down")
        let report = try await run()
        // Failures before anything is listed keep the keys of a success: one per expected (or known) queue.
        let workers = try #require(report.result("agents.workers/services"))
        #expect(workers.status == .critical)
        #expect(workers.summary.contains("Redis"))
        #expect(workers.role == .symptom)
        #expect(report.result("agents.workers") == nil)
        #expect(report.result("queues.backlog/services")?.role == .symptom)
        #expect(report.result("queues.backlog") == nil)
    }

    @Test func mongoTimeoutAndBlindProbe() async throws {
        try await clearml.scenario(api: "bad_credentials")
        let blind = try await run()
        #expect(blind.result("agents.workers/services")?.status == .unknown)
        #expect(blind.result("agents.workers/services")?.summary.contains("no token") == true)
        #expect(blind.results.allSatisfy { $0.status != .critical })

        try await clearml.reset()
        try await clearml.scenario(api: "mongo_down")
        let (report, seconds) = try await timed {
            await clearml.run(
                try clearml.loaded(checks: "  agents.workers: {}\n  apiserver.auth: {}", timeout: "1s"),
                only: [.agentsWorkers, .apiserverAuth])
        }
        #expect(report.result("agents.workers/services")?.status != .ok)
        #expect(report.result("apiserver.auth/direct")?.summary.contains("MongoDB") == true)
        #expect(seconds < 1 + 0.5 + 0.5)
    }

    @Test func failuresKeepTheKeysOfTheLatestSuccess() async throws {
        try await clearml.state(["queues": [["name": "default"], ["name": "gpu"], ["name": "services"]]])
        let state = ProbeState()
        let loaded = try clearml.loaded(checks: "  agents.workers: {}\n  queues.backlog: {}\n  apiserver.auth: {}")
        let healthy = await clearml.run(loaded, only: [.agentsWorkers, .queuesBacklog, .apiserverAuth], state: state)
        let keys = Set(healthy.results.filter { $0.id == .queuesBacklog || $0.id == .agentsWorkers }.map(\.key))
        #expect(
            keys == [
                "agents.workers/services", "queues.backlog/default", "queues.backlog/gpu", "queues.backlog/services",
            ])

        try await clearml.scenario(api: "mongo_down:100")
        let failing = await clearml.run(loaded, only: [.agentsWorkers, .queuesBacklog, .apiserverAuth], state: state)
        let failed = failing.results.filter { $0.id == .queuesBacklog || $0.id == .agentsWorkers }
        #expect(Set(failed.map(\.key)) == keys)
        #expect(failed.allSatisfy { $0.status != .ok })
    }

    @Test func backlogWithoutAnyWorkerIsItsOwnRootCauseNotASymptomOfAnotherQueue() async throws {
        try await clearml.state([
            "workers": [],
            "queues": [
                ["name": "default", "entries": [["task": "t1", "added": Self.ago(60)]]],
                ["name": "services", "entries": [["task": "t2", "added": Self.ago(60)]]],
            ],
        ])
        let report = try await run("  agents.workers: {}\n  queues.backlog:\n    no_worker_status: critical")
        #expect(report.result("agents.workers/services")?.status == .critical)
        let services = try #require(report.result("queues.backlog/services"))
        #expect(services.role == .symptom)
        #expect(services.rootCause == "agents.workers/services")
        // No worker is expected on `default`: its waiting task is a root cause of its own, not a symptom of `services`.
        let other = try #require(report.result("queues.backlog/default"))
        #expect(other.status == .critical)
        #expect(other.summary.contains("1 task waits on queue default"))
        #expect(other.role == .rootCause)
        #expect(other.rootCause == nil)
        #expect(report.rootCauses.contains("queues.backlog/default"))
    }

    @Test func aReplyAboveTheCapIsAFindingNamingTheKeyToRaise() async throws {
        let workers = (0..<400).map {
            ["id": "worker-\($0)", "queues": ["services"], "last_activity_time": NSNull()] as [String: Any]
        }
        try await clearml.state(["workers": workers])
        let small = try await run("  agents.workers:\n    max_reply: 64kb", only: [.agentsWorkers, .apiserverAuth])
        let capped = try #require(small.result("agents.workers/services"))
        #expect(capped.status == .unknown)
        #expect(capped.summary.contains("the reply of workers.get_all"), "\(capped.summary)")
        #expect(capped.summary.contains("exceeds 64 KB: raise checks.agents.workers.max_reply"), "\(capped.summary)")
        #expect(!capped.summary.contains("envelope"))

        let roomy = try await run("  agents.workers:\n    max_reply: 4mb", only: [.agentsWorkers, .apiserverAuth])
        #expect(roomy.result("agents.workers/services")?.status == .ok)
        #expect(roomy.result("agents.workers/services")?.metrics["workers"] == 400)
    }

    @Test func queuesBeyondTheServersPageOf500AreJudgedToo() async throws {
        var queues: [[String: Any]] = (0..<1200).map { ["name": String(format: "q%04d", $0)] }
        queues[1150]["entries"] = [["task": "late", "added": Self.ago(30)]]
        try await clearml.state(["queues": queues])
        let report = try await run(
            "  queues.backlog:\n    no_worker_status: critical", only: [.queuesBacklog, .apiserverAuth])
        let others = try #require(report.result("queues.backlog/\(QueuesBacklogCheck.othersTarget)"))
        #expect(others.metrics["queues"] == 1150)
        #expect(others.status == .critical)
        #expect(others.summary.contains("1 task waits on queue q1150"), "\(others.summary)")
        #expect(report.results.filter { $0.id == .queuesBacklog }.count == 51)
        let pages = try await clearml.double.requests().compactMap { $0["body"] as? String }
            .filter { $0.contains("max_task_entries") }
        #expect(pages.count == 3, "\(pages)")
        #expect(pages.allSatisfy { $0.contains("\"page_size\":500") })
    }
}

/// The apiserver's time forms, read without a formatter, agree with the general ISO-8601 path.
@Suite struct ClearMLTimeTests {
    @Test(arguments: [
        "2026-01-01T00:00:00.123000+00:00", "2025-02-28T23:59:59Z", "2024-02-29T12:30:00.5+02:00",
        "1999-12-31T23:59:59-05:30", "2026-07-04T08:09:10",
    ])
    func fastPathMatchesTheFormatter(_ text: String) throws {
        let fast = try #require(UTCTimestamp.parseServerTime(text))
        var plain = text
        var fraction = 0.0
        if let dot = plain.firstIndex(of: ".") {
            let digits = plain[plain.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            plain.removeSubrange(dot..<digits.endIndex)
        }
        if !plain.dropFirst(10).contains("+"), !plain.dropFirst(10).contains("-"), !plain.hasSuffix("Z") {
            plain += "Z"
        }
        let formatter = ISO8601DateFormatter()
        let expected = try #require(formatter.date(from: plain)).addingTimeInterval(fraction)
        #expect(abs(fast.timeIntervalSince(expected)) < 0.000_001, "\(text): \(fast) vs \(expected)")
    }

    @Test func aSpaceForTheTAndNoZoneReadAsUTC() {
        #expect(
            UTCTimestamp.parseServerTime("2026-07-04 08:09:10.25")
                == UTCTimestamp.parseRFC3339("2026-07-04T08:09:10.25Z"))
        #expect(UTCTimestamp.parseRFC3339("2026-07-04T08:09:10") == nil, "RFC 3339 itself needs the zone")
        #expect(
            ClearMLTime.parse(" 2026-07-04T08:09:10Z ") == UTCTimestamp.parseRFC3339("2026-07-04T08:09:10Z"),
            "blanks take the slower path")
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00+0000x", "2026-01-01", "2026-02-30T00:00:00Z",
    ])
    func otherFormsAreLeftToTheGeneralPath(_ text: String) {
        #expect(UTCTimestamp.parseServerTime(text) == nil)
    }
}
