import Foundation
import NativeClients
import ProbeCore

/// `tasks.stale`: tasks that are "running" (`in_progress`) but have not been updated for longer than `max_silence`:
/// their process or its agent died, or hangs, while the UI still shows them running. One bounded read:
/// `tasks.get_all` with `status: [in_progress]`, `only_fields: [id, last_update]`, `order_by: [last_update]` (oldest
/// first) and `page_size: max_tasks`, so the reply is a few bytes per task whatever the number of tasks.
///
/// The apiserver's own watchdog (`services.tasks.non_responsive_tasks_watchdog`, on by default: stops `in_progress`
/// tasks not updated for 7200 s, every 900 s) clears such tasks after about 2 h; a stale task older than that means
/// the watchdog is off. Task ids appear in the summary only, never as targets, labels or metric names.
public struct TasksStaleCheck: Check {
    public var credentials: ProbeConfig.Credentials
    public var maxSilence: Double
    public var maxTasks: Int
    public var status: Status
    public var maxReply: Int = Self.defaultMaxReply
    public static let defaultMaxReply = 4 * 1024 * 1024
    /// The apiserver's watchdog threshold (`non_responsive_tasks_watchdog.threshold_sec`) plus its interval.
    static let watchdogSeconds: Double = 7200 + 900

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let maxSilence = try options.duration("max_silence", default: 3600, minimum: 60)
        // 500 is the apiserver's max_page_size: a larger page is cut to it anyway.
        let maxTasks = try options.int("max_tasks", default: 100, range: 1...500)
        let word = try options.string("status", default: "warning")
        guard let status = Status(rawValue: word), status == .warning || status == .critical else {
            throw options.error(key: "status", "'\(word)' is not warning or critical")
        }
        let maxReply = try ClearMLCall.maxReply(options, default: defaultMaxReply)
        guard let credentials = config.credentials else {
            return .notConfigured("no credentials (set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY)")
        }
        guard !ClearMLEndpoint.all(config).isEmpty else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        var check = TasksStaleCheck(
            credentials: credentials, maxSilence: maxSilence, maxTasks: maxTasks, status: status)
        check.maxReply = maxReply
        return .ready(check)
    }

    public init(credentials: ProbeConfig.Credentials, maxSilence: Double, maxTasks: Int, status: Status = .warning) {
        self.credentials = credentials
        self.maxSilence = maxSilence
        self.maxTasks = maxTasks
        self.status = status
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .tasksStale)
        let parameters: [String: any Sendable] = [
            "status": ["in_progress"], "only_fields": ["id", "last_update"], "order_by": ["last_update"],
            "page": 0, "page_size": maxTasks,
        ]
        switch await ClearMLSession.read(
            "tasks.get_all", parameters: parameters, context, credentials: credentials, maxReply: maxReply)
        {
        case .failure(let problem):
            return [problem.result(builder, target: "")]
        case .success(let envelope):
            let tasks = (envelope.data["tasks"]?.array ?? []).map { item in
                (id: item["id"]?.string ?? "?", updated: ClearMLTime.parse(item["last_update"]))
            }
            let judged = judge(tasks, now: Date())
            var result = builder.result(
                status: judged.status, summary: judged.summary, hint: judged.hint, metrics: judged.metrics)
            result.durationMs = builder.elapsedMs
            return [result]
        }
    }

    /// Pure: the verdict for the running tasks of one page (oldest update first).
    func judge(_ tasks: [(id: String, updated: Date?)], now: Date) -> (
        status: Status, summary: String, hint: String?, metrics: [String: Double]
    ) {
        let ages = tasks.map { task in (id: task.id, age: task.updated.map { max(0, now.timeIntervalSince($0)) }) }
        // A running task without last_update was never updated since it started: judged as stale only by others.
        let stale = ages.filter { ($0.age ?? 0) > maxSilence }.sorted { ($0.age ?? 0) > ($1.age ?? 0) }
        var metrics: [String: Double] = ["running_tasks": Double(tasks.count), "stale_tasks": Double(stale.count)]
        let window = Durations.format(seconds: maxSilence)
        let full = tasks.count >= maxTasks
        guard let oldest = stale.first, let age = oldest.age else {
            let running = full ? "at least \(tasks.count)" : "\(tasks.count)"
            return (
                .ok,
                "\(running) running task\(tasks.count == 1 ? "" : "s"), none without an update for more than \(window)",
                nil, metrics
            )
        }
        metrics["oldest_update_age_seconds"] = age.rounded()
        let count = stale.count == tasks.count && full ? "at least \(stale.count)" : "\(stale.count)"
        let noun = stale.count == 1 ? "running task has" : "running tasks have"
        var summary =
            "\(count) \(noun) not been updated for more than \(window) (oldest: task \(oldest.id), last update \(Durations.format(seconds: age)) ago): their process or agent died or hangs, while the UI shows them running"
        var hint =
            "Look at the task's console log and its agent (agents.workers); abort or reset tasks that no longer run. Raise checks.tasks.stale.max_silence for tasks that legitimately stay silent this long."
        if age > Self.watchdogSeconds {
            summary += "; older than the apiserver's watchdog allows (2 h)"
            hint =
                "The apiserver's non-responsive task watchdog (services.tasks.non_responsive_tasks_watchdog, 7200 s) should have stopped it: check that it is enabled. "
                + hint
        }
        return (status, summary, hint, metrics)
    }
}
