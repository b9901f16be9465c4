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

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .agentsWorkers)
        // workers.get_all has no field selection (docs/clearml-api.md): its reply is read for queue names and report
        // times only, without a tree of it.
        let now = Date()
        var workers = WorkerListing()
        let reply = await ClearMLSession.read(
            "workers.get_all", parameters: ["last_seen": Int(maxAge.rounded(.up))], context,
            credentials: credentials, maxReply: maxReply
        ) { scanner in
            workers = try WorkerListing.read(&scanner, now: now, maxAge: maxAge)
        }
        if case .failure(let problem) = reply {
            // The same keys as a success (one per expected queue), so an alert opened by the failure resolves.
            return expected.isEmpty
                ? [problem.result(builder, target: "")]
                : expected.map { problem.result(builder, target: $0.queue) }
        }
        guard !expected.isEmpty else {
            var result = builder.result(
                status: .ok,
                summary:
                    "no workers expected (checks.agents.workers.expected is empty); \(workers.reporting) reporting",
                metrics: ["workers": Double(workers.reporting)])
            result.durationMs = builder.elapsedMs
            return [result]
        }
        return expected.map { entry in
            let listening = workers.listeners(entry.queue)
            let newest = listening.workers > 0 ? listening.newestAge : nil
            var metrics: [String: Double] = [
                "workers": Double(listening.workers), "expected_workers": Double(entry.count),
            ]
            if let newest { metrics["newest_report_age_seconds"] = newest.rounded() }
            let window = Durations.format(seconds: maxAge)
            let status: Status
            let summary: String
            var hint: String?
            if listening.workers >= entry.count {
                status = .ok
                summary =
                    "\(Self.workers(listening.workers)) on queue \(entry.queue)"
                    + (newest.map { ", last report \(Durations.format(seconds: $0)) ago" } ?? "")
            } else if listening.workers == 0 {
                status = .critical
                summary =
                    "no worker listening to queue \(entry.queue) reported within \(window) (expected at least \(entry.count)): tasks sent there will not run"
                hint =
                    entry.queue == "services"
                    ? "Start the services agent (compose service agent-services; without CLEARML_AGENT_ACCESS_KEY it exits 0 on purpose and stays down), "
                        + "or set checks.agents.workers.expected to {} when the stack runs without agents."
                    : "Start an agent for it (clearml-agent daemon --queue \(entry.queue)), or change checks.agents.workers.expected."
            } else {
                status = .warning
                summary =
                    "only \(Self.workers(listening.workers)) listening to queue \(entry.queue) reported within \(window) (expected at least \(entry.count))"
                hint = "Some agents for this queue stopped reporting; see their hosts and logs."
            }
            var result = builder.result(
                target: entry.queue, status: status, summary: summary, hint: hint, metrics: metrics)
            result.durationMs = builder.elapsedMs
            return result
        }
    }

    static func workers(_ count: Int) -> String { count == 1 ? "1 worker" : "\(count) workers" }
}
