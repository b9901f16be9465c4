import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `tasks.stale` against the ClearML double's tasks: running tasks without an update for longer than `max_silence`.
@Suite(.serialized)
final class TasksStaleCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    func run(_ options: String = "{max_silence: 30m}") async throws -> Report {
        await clearml.run(
            try clearml.loaded(
                checks: "  tasks.stale: \(options)\n  apiserver.auth: {}\n  apiserver.ping: {}", ingress: false),
            only: [.tasksStale, .apiserverAuth, .apiserverPing])
    }

    static func ago(_ seconds: Double) -> Double { Date().timeIntervalSince1970 - seconds }

    @Test func noRunningTasksIsOKAndTheReadIsBounded() async throws {
        try await clearml.state(["tasks": [["id": "done1", "status": "completed", "last_update": Self.ago(99_999)]]])
        let report = try await run()
        let result = try #require(report.result("tasks.stale"))
        #expect(result.status == .ok, "\(result.summary)")
        #expect(result.metrics["running_tasks"] == 0)
        let requests = try await clearml.double.requests()
        let read = try #require(requests.first { ($0["path"] as? String)?.contains("tasks.get_all") == true })
        let body = try #require(JSONValue.parse(Data((read["body"] as? String ?? "").utf8)))
        #expect(body["status"] == .array([.string("in_progress")]))
        #expect(body["only_fields"] == .array([.string("id"), .string("last_update")]))
        #expect(body["order_by"] == .array([.string("last_update")]))
        #expect(body["page_size"] == .number(100))
    }

    @Test func aRunningTaskSilentTooLongIsAWarningNamingItAndTheCount() async throws {
        try await clearml.state([
            "tasks": [
                ["id": "fresh1", "last_update": Self.ago(60)],
                ["id": "stale-a", "last_update": Self.ago(3 * 3600)],
                ["id": "stale-b", "last_update": Self.ago(45 * 60)],
            ]
        ])
        let report = try await run()
        let result = try #require(report.result("tasks.stale"))
        #expect(result.status == .warning)
        #expect(
            result.summary.contains("2 running tasks have not been updated for more than 30 min"), "\(result.summary)")
        #expect(result.summary.contains("oldest: task stale-a"), "\(result.summary)")
        #expect(result.summary.contains("watchdog"), "3 h is past the apiserver's watchdog: \(result.summary)")
        #expect(result.metrics["stale_tasks"] == 2 && result.metrics["running_tasks"] == 3)
        #expect((result.metrics["oldest_update_age_seconds"] ?? 0) >= 3 * 3600 - 5)
        #expect(result.role == .rootCause || result.role == .unconfirmedRootCause, "\(result.role)")
        #expect(result.id.service == .agents)
        #expect(result.target.isEmpty, "task ids never become targets")
    }

    @Test func theStatusIsConfigurableAndAFullPageOfStaleTasksIsAtLeast() async throws {
        try await clearml.state(["tasks": (0..<5).map { ["id": "t\($0)", "last_update": Self.ago(7200 + Double($0))] }])
        let result = try #require(
            try await run("{max_silence: 1h, max_tasks: 3, status: critical}").result("tasks.stale"))
        #expect(result.status == .critical)
        #expect(result.summary.contains("at least 3 running tasks"), "\(result.summary)")
        #expect(result.summary.contains("oldest: task t4"), "\(result.summary)")
    }

    @Test func mongoDownIsNotBlamedOnTheTasks() async throws {
        try await clearml.scenario(api: "mongo_down:100")
        let report = try await run()
        let result = try #require(report.result("tasks.stale"))
        // The login already fails on MongoDB: no read is tried, and the result is never a root cause of its own.
        #expect(result.status != .ok, "\(result.summary)")
        #expect(result.role != .rootCause, "\(result.role)")
        #expect(!report.rootCauses.contains("tasks.stale"), "\(report.rootCauses)")
    }

    @Test func badOptionsAreRefused() throws {
        for options in ["{max_silence: 10s}", "{max_tasks: 501}", "{status: ok}"] {
            #expect(throws: ConfigError.self, "\(options)") {
                try clearml.loaded(checks: "  tasks.stale: \(options)")
            }
        }
    }
}
