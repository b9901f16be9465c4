import Foundation
import NativeClients
import ProbeCore

/// `queues.backlog`: `queues.get_all` (entries bounded by `max_task_entries`) and `workers.get_all`: queues with
/// waiting tasks and no worker listening, and queues whose oldest waiting task (`entries[].added`) waits longer than
/// `max_wait`. One result per queue, targets are queue names (at most `max_queues`, the rest summed up in one result).
public struct QueuesBacklogCheck: Check {
    public enum Severity: String, Sendable, CaseIterable {
        case warning, critical

        var status: Status { self == .warning ? .warning : .critical }
    }

    public var credentials: ProbeConfig.Credentials
    /// The largest apiserver reply this check reads (`max_reply`).
    public var maxReply: Int = Self.defaultMaxReply
    public static let defaultMaxReply = 16 * 1024 * 1024
    public var maxWait: Double
    public var maxTaskEntries: Int
    public var maxQueues: Int
    public var noWorker: Severity
    public var workerMaxAge: Double
    /// Queues that `agents.workers` expects workers on: a no-worker backlog there depends on that queue's
    /// `agents.workers/<queue>` result; on any other queue it is its own root cause.
    public var workerQueues: Set<String> = []

    /// Queues per `queues.get_all` page (the apiserver's default and largest page), and the most pages read.
    static let pageSize = 500
    static let maxPages = 40

    /// The target that sums up queues beyond `max_queues`.
    public static let othersTarget = "other-queues"

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let maxWait = try options.duration("max_wait", default: 1800, minimum: 1)
        let maxTaskEntries = try options.int("max_task_entries", default: 100, range: 1...1000)
        let maxQueues = try options.int("max_queues", default: 50, range: 1...500)
        let noWorker = try options.choice("no_worker_status", default: Severity.warning)
        let workerMaxAge = try options.duration("worker_max_age", default: 600, minimum: 1)
        let maxReply = try ClearMLCall.maxReply(options, default: defaultMaxReply)
        guard let credentials = config.credentials else {
            return .notConfigured("no credentials (set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY)")
        }
        guard !ClearMLEndpoint.all(config).isEmpty else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        var check = QueuesBacklogCheck(
            credentials: credentials, maxWait: maxWait, maxTaskEntries: maxTaskEntries,
            maxQueues: maxQueues, noWorker: noWorker, workerMaxAge: workerMaxAge)
        check.maxReply = maxReply
        return .ready(check)
    }

    /// Ties this check to the queues `agents.workers` is configured to expect workers on.
    public static func linked(_ checks: [ConfiguredCheck]) -> [ConfiguredCheck] {
        guard let agents = checks.first(where: { $0.id == .agentsWorkers }), case .ready(let check) = agents.plan,
            let workers = check as? AgentsWorkersCheck
        else { return checks }
        return checks.map { configured in
            guard configured.id == .queuesBacklog, case .ready(let check) = configured.plan,
                var backlog = check as? QueuesBacklogCheck
            else { return configured }
            backlog.workerQueues = Set(workers.expected.map(\.queue))
            var linked = configured
            linked.plan = .ready(backlog)
            return linked
        }
    }

    /// Where a failure before the queues are listed is reported: the targets of the latest success, else the
    /// queues `agents.workers` expects, else the check itself.
    func failureTargets(_ context: CheckContext) async -> [String] {
        let known = await context.state.knownTargets(.queuesBacklog)
        if !known.isEmpty { return known }
        return workerQueues.isEmpty ? [""] : workerQueues.sorted()
    }

    func failed(_ problem: ClearMLProblem, _ builder: ResultBuilder, _ context: CheckContext) async -> [CheckResult] {
        await failureTargets(context).map { problem.result(builder, target: $0) }
    }

    struct Queue {
        var name: String
        /// The name as the apiserver gave it (matches `agents.workers` targets from the config).
        var rawName: String
        var waiting: Int
        var oldestWait: Double?
        var workers: Int
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .queuesBacklog)
        // The apiserver returns at most `pageSize` queues per call (its Mongo `max_page_size`, 500 by default, also
        // when no page is asked for): page through them in a stable order.
        var listed: [QueueListing.Queue] = []
        for page in 0..<Self.maxPages {
            var listing = QueueListing()
            let reply = await ClearMLSession.read(
                "queues.get_all",
                parameters: [
                    "only_fields": ["id", "name", "entries"],
                    "max_task_entries": maxTaskEntries,
                    "order_by": ["id"], "page": page,
                    "page_size": Self.pageSize,
                ],
                context, credentials: credentials, maxReply: maxReply
            ) { scanner in
                listing = try QueueListing.read(&scanner)
            }
            if case .failure(let problem) = reply { return await failed(problem, builder, context) }
            listed += listing.queues
            if listing.items < Self.pageSize { break }
        }
        // workers.get_all has no field selection (docs/clearml-api.md): read for queue names and report times only.
        let now = Date()
        var workers = WorkerListing()
        let workersReply = await ClearMLSession.read(
            "workers.get_all", parameters: ["last_seen": Int(workerMaxAge.rounded(.up))],
            context, credentials: credentials, maxReply: maxReply
        ) { scanner in
            workers = try WorkerListing.read(&scanner, now: now, maxAge: workerMaxAge)
        }
        if case .failure(let problem) = workersReply { return await failed(problem, builder, context) }

        let redactor = Redactor(context.config.secrets)
        let queues = listed.map { item in
            Queue(
                name: redactor.redact(Evidence.excerpt(item.name, limit: 64)), rawName: item.name,
                waiting: item.waiting,
                oldestWait: item.oldest.map { max(0, now.timeIntervalSince($0)) },
                workers: workers.listeners(item.name).workers)
        }.sorted { $0.name < $1.name }

        guard !queues.isEmpty else {
            var result = builder.result(status: .ok, summary: "no queues", metrics: ["queues": 0])
            result.durationMs = builder.elapsedMs
            await context.state.setKnownTargets(.queuesBacklog, [""])
            return [result]
        }
        var results = queues.prefix(maxQueues).map { judge($0, builder) }
        let others = queues.dropFirst(maxQueues).map { judge($0, builder) }
        if !others.isEmpty {
            let failing = others.filter { $0.status != .ok }
            let worst = Status.worst(failing.map(\.status))
            let more = others.count == 1 ? "1 more queue" : "\(others.count) more queues"
            let summary =
                failing.isEmpty
                ? "\(more), none with a problem"
                : "\(failing.count) of \(more) \(failing.count == 1 ? "has" : "have") a problem: "
                    + failing.prefix(3).map(\.summary).joined(separator: "; ")
            var result = builder.result(
                target: Self.othersTarget, status: worst, summary: summary,
                hint: failing.first?.hint, metrics: ["queues": Double(others.count)],
                dependsOn: Array(Set(failing.flatMap(\.dependsOn))).sorted { "\($0)" < "\($1)" })
            result.durationMs = builder.elapsedMs
            results.append(result)
        }
        await context.state.setKnownTargets(.queuesBacklog, results.map(\.target))
        return results
    }

    func judge(_ queue: Queue, _ builder: ResultBuilder) -> CheckResult {
        var metrics: [String: Double] = ["waiting_tasks": Double(queue.waiting), "workers": Double(queue.workers)]
        if let oldest = queue.oldestWait { metrics["oldest_wait_seconds"] = oldest.rounded() }
        let count = queue.waiting >= maxTaskEntries ? "at least \(queue.waiting)" : "\(queue.waiting)"
        let tasks = queue.waiting == 1 ? "1 task" : "\(count) tasks"
        let oldest = queue.oldestWait.map { "oldest waiting \(Durations.format(seconds: $0))" }
        let listeners = queue.workers == 1 ? "1 worker listens" : "\(queue.workers) workers listen"
        var status = Status.ok
        var summary: String
        var hint: String?
        var dependsOn: [Dependency] = [.service(.apiserver)]
        if queue.waiting > 0 && queue.workers == 0 {
            status = noWorker.status
            summary =
                "\(tasks) \(queue.waiting == 1 ? "waits" : "wait") on queue \(queue.name) and no worker listens to it"
                + (oldest.map { " (\($0))" } ?? "")
            hint =
                "Start an agent for this queue (clearml-agent daemon --queue \(queue.name)), or move the tasks to a queue that has one."
            // Tied to this queue's own workers only: a backlog on `default` is no symptom of `services`' agent.
            if workerQueues.contains(queue.rawName) {
                dependsOn.append(.result("\(CheckID.agentsWorkers.rawValue)/\(queue.rawName)"))
            }
        } else if queue.waiting > 0, let wait = queue.oldestWait, wait > maxWait {
            status = .warning
            summary =
                "the oldest of \(tasks) on queue \(queue.name) has waited \(Durations.format(seconds: wait)) "
                + "(above \(Durations.format(seconds: maxWait))) although \(listeners): the workers are busy or stuck"
            hint = "See what the workers run (the UI's Workers page); add agents or look for a stuck task."
        } else if queue.waiting == 0 {
            summary = "queue \(queue.name) is empty, \(listeners)"
        } else {
            summary = "\(tasks) on queue \(queue.name)" + (oldest.map { ", \($0)" } ?? "") + ", \(listeners)"
        }
        var result = builder.result(
            target: queue.name, status: status, summary: summary, hint: hint, metrics: metrics,
            dependsOn: dependsOn)
        result.durationMs = builder.elapsedMs
        return result
    }
}
