import Foundation
import NativeClients
import ProbeCore

/// `agents.workers`: `workers.get_all` (reads Redis db 4 and Mongo) and, for every queue in `expected`, at least that
/// many workers listening to it that reported within `max_age`. Default: one worker on `services` (the compose agent
/// `clearml-services`); `expected: {}` when the stack runs without agents.
///
/// Targets are queue names from the config only: worker ids never become targets, labels or metric names (the
/// services agent registers a sub-worker `clearml-services:service:<task id>` per task it runs).
public struct AgentsWorkersCheck: Check {
    public var credentials: ProbeConfig.Credentials
    /// The largest apiserver reply this check reads (`max_reply`).
    public var maxReply: Int = Self.defaultMaxReply
    public static let defaultMaxReply = 16 * 1024 * 1024
    /// Queue name and the least number of workers expected on it, by name.
    public var expected: [(queue: String, count: Int)]
    public var maxAge: Double

    static let maxExpectedQueues = 50

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        var expected: [(queue: String, count: Int)] = [("services", 1)]
        if let map = try options.map("expected") {
            expected = try map.keys.map { queue in (queue, try map.int(queue, default: 1, range: 0...10_000)) }
                .filter { $0.count > 0 }.sorted { $0.queue < $1.queue }
            try map.finish()
            if expected.count > maxExpectedQueues {
                throw options.error(key: "expected", "at most \(maxExpectedQueues) queues (each becomes a result)")
            }
        }
        let maxAge = try options.duration("max_age", default: 600, minimum: 1)
        let maxReply = try ClearMLCall.maxReply(options, default: defaultMaxReply)
        guard let credentials = config.credentials else {
            return .notConfigured("no credentials (set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY)")
        }
        guard !ClearMLEndpoint.all(config).isEmpty else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        var check = AgentsWorkersCheck(credentials: credentials, expected: expected, maxAge: maxAge)
        check.maxReply = maxReply
        return .ready(check)
    }

    /// A worker as the check sees it: only what it needs, no id kept.
    struct Worker {
        var queues: Set<String>
        var age: Double
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .agentsWorkers)
        let reply = await ClearMLSession.read("workers.get_all", parameters: ["last_seen": Int(maxAge.rounded(.up))], context,
                                              credentials: credentials, maxReply: maxReply)
        let envelope: ClearMLEnvelope
        switch reply {
        case .failure(let problem):
            // The same keys as a success (one per expected queue), so an alert opened by the failure resolves.
            return expected.isEmpty ? [problem.result(builder, target: "")]
                : expected.map { problem.result(builder, target: $0.queue) }
        case .success(let value):
            envelope = value
        }
        let now = Date()
        let workers = (envelope.data["workers"]?.array ?? []).compactMap { item -> Worker? in
            let seen = ClearMLTime.parse(item["last_activity_time"]) ?? ClearMLTime.parse(item["last_report_time"])
            let age = seen.map { max(0, now.timeIntervalSince($0)) } ?? 0
            guard age <= maxAge else { return nil }
            let queues = (item["queues"]?.array ?? []).compactMap { $0["name"]?.string }
            return Worker(queues: Set(queues), age: age)
        }
        guard !expected.isEmpty else {
            var result = builder.result(status: .ok, summary: "no workers expected (checks.agents.workers.expected is empty); \(workers.count) reporting",
                                        metrics: ["workers": Double(workers.count)])
            result.durationMs = builder.elapsedMs
            return [result]
        }
        return expected.map { entry in
            let listening = workers.filter { $0.queues.contains(entry.queue) }
            let newest = listening.map(\.age).min()
            var metrics: [String: Double] = ["workers": Double(listening.count), "expected_workers": Double(entry.count)]
            if let newest { metrics["newest_report_age_seconds"] = newest.rounded() }
            let window = Durations.format(seconds: maxAge)
            let status: Status
            let summary: String
            var hint: String?
            if listening.count >= entry.count {
                status = .ok
                summary = "\(Self.workers(listening.count)) on queue \(entry.queue)" + (newest.map { ", last report \(Durations.format(seconds: $0)) ago" } ?? "")
            } else if listening.isEmpty {
                status = .critical
                summary = "no worker listening to queue \(entry.queue) reported within \(window) (expected at least \(entry.count)): tasks sent there will not run"
                hint = entry.queue == "services"
                    ? "Start the services agent (compose service agent-services; without CLEARML_AGENT_ACCESS_KEY it exits 0 on purpose and stays down), "
                        + "or set checks.agents.workers.expected to {} when the stack runs without agents."
                    : "Start an agent for it (clearml-agent daemon --queue \(entry.queue)), or change checks.agents.workers.expected."
            } else {
                status = .warning
                summary = "only \(Self.workers(listening.count)) listening to queue \(entry.queue) reported within \(window) (expected at least \(entry.count))"
                hint = "Some agents for this queue stopped reporting; see their hosts and logs."
            }
            var result = builder.result(target: entry.queue, status: status, summary: summary, hint: hint, metrics: metrics)
            result.durationMs = builder.elapsedMs
            return result
        }
    }

    static func workers(_ count: Int) -> String { count == 1 ? "1 worker" : "\(count) workers" }
}
