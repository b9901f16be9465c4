import Foundation
import NativeClients
import ProbeCore

/// `redis.status`: `INFO` and `CONFIG GET maxclients` judged against docs/data-stores.md: memory vs maxmemory and the
/// eviction policy (ClearML needs `noeviction`), the last RDB/AOF write, rejected connections since the previous
/// sample, clients vs maxclients, loading, role, version and uptime (a restart since the previous sample is a
/// warning). Also a sentinel key the probe owns (`clearml-probe:<instance>:sentinel`, no TTL, written once with
/// `SET NX`, read with `GET` every run): missing after it was there means Redis came back empty (`StoreSentinel`).
/// `--read-only` reads it but never writes it.
public struct RedisStatusCheck: Check {
    public var store: RedisStore
    public var memoryWarningPercent: Double
    public var clientsWarningPercent: Double
    public var requiredPolicy: String
    /// The sentinel key; nil turns the sentinel off (`sentinel: false`).
    public var sentinelKey: String?
    /// How long a loss stays a finding after it was found (the sentinel is written again at once).
    public var lossHold: Double = 3600

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let memory = try options.double("memory_warning_percent", default: 90, range: 1...100)
        let clients = try options.double("clients_warning_percent", default: 90, range: 1...100)
        let policy = try options.string("maxmemory_policy", default: "noeviction")
        let sentinel = try options.bool("sentinel", default: true)
        let hold = try options.duration("data_loss_hold", default: 3600, minimum: 1)
        guard let store = config.dataStores.redis else { return RedisStep.notConfigured() }
        var check = RedisStatusCheck(
            store: store, memoryWarningPercent: memory, clientsWarningPercent: clients, requiredPolicy: policy)
        check.sentinelKey = sentinel ? "clearml-probe:\(config.instance):sentinel" : nil
        check.lossHold = hold
        return .ready(check)
    }

    public init(
        store: RedisStore, memoryWarningPercent: Double = 90, clientsWarningPercent: Double = 90,
        requiredPolicy: String = "noeviction"
    ) {
        self.store = store
        self.memoryWarningPercent = memoryWarningPercent
        self.clientsWarningPercent = clientsWarningPercent
        self.requiredPolicy = requiredPolicy
    }

    enum Outcome: Sendable {
        /// `sentinel`: whether the sentinel key was there (nil: not read, or off).
        case info(RedisInfo, maxclients: Double?, sentinel: Bool?)
        case failure(RedisFailure)
        case errorReply(String)
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .redisStatus)
        let sentinelKey = sentinelKey
        let write = !context.readOnly
        let outcome = await RedisStep.connection(store).session(deadline: context.deadline) { session -> Outcome in
            let info: RedisInfo
            switch session.command(["INFO"]) {
            case .failure(let failure): return .failure(failure)
            case .success(.error(let message)): return .errorReply(message)
            case .success(let reply): info = RedisInfo(reply.text ?? "")
            }
            // CONFIG may be renamed or disabled (a hardening practice): then maxclients is unknown, not a failure.
            var maxclients: Double?
            if case .success(.array(let items)) = session.command(["CONFIG", "GET", "maxclients"]), items.count >= 2 {
                maxclients = items[1].text.flatMap(Double.init)
            }
            var sentinel: Bool?
            if let sentinelKey {
                switch session.command(["GET", sentinelKey]) {
                case .success(.null):
                    sentinel = false
                    // NX: never overwrites a sentinel another run wrote meanwhile.
                    if write { _ = session.command(["SET", sentinelKey, UTCTimestamp.rfc3339(Date()), "NX"]) }
                case .success(.string): sentinel = true
                default: sentinel = nil  // an error reply (ACL without +get) or no time left: not judged
                }
            }
            return .info(info, maxclients: maxclients, sentinel: sentinel)
        }
        switch outcome {
        case .failure(let failure):
            return [RedisStep.failure(failure, store: store, context: context, builder: builder)]
        case .errorReply(let message):
            return [RedisStep.errorReply(message, command: "INFO", context: context, builder: builder)]
        case .info(let info, let maxclients, let sentinel):
            return [await judge(info, maxclients: maxclients, sentinel: sentinel, context: context, builder: builder)]
        }
    }

    func judge(
        _ info: RedisInfo, maxclients: Double?, sentinel: Bool? = nil, context: CheckContext, builder: ResultBuilder
    ) async -> CheckResult {
        var metrics: [String: Double] = [:]
        var findings: [Finding] = []
        let sampleKey = "redis.status/\(store.display)"
        let version = info["redis_version"] ?? "?"
        let uptime = info.number("uptime_in_seconds")
        if let uptime {
            metrics["uptime_seconds"] = uptime
            if await context.state.restarted("\(sampleKey)/uptime_s", uptimeSeconds: uptime) {
                findings.append(
                    Finding(
                        .warning, "Redis restarted \(Uptime.words(uptime)) ago",
                        hint:
                            "See why in its log (OOM kill, crash, deploy); ClearML's queued state survives only with persistence."
                    ))
            }
        }

        // Memory against maxmemory, and the eviction policy.
        let used = info.number("used_memory") ?? 0
        let maxmemory = info.number("maxmemory") ?? 0
        metrics["used_memory_bytes"] = used
        metrics["maxmemory_bytes"] = maxmemory
        var memoryWords = "memory \(ByteSize.format(used))"
        if maxmemory > 0 {
            let percent = used / maxmemory * 100
            metrics["memory_used_percent"] = percent
            memoryWords += " (\(DecimalText.fixed(percent, places: 0)) % of maxmemory \(ByteSize.format(maxmemory)))"
            if percent > memoryWarningPercent {
                findings.append(
                    Finding(
                        .warning,
                        "memory at \(DecimalText.fixed(percent, places: 0)) % of maxmemory (\(ByteSize.format(used)) of \(ByteSize.format(maxmemory)))",
                        hint:
                            "Raise maxmemory or find what grows (MEMORY STATS, big keys); at 100 % writes fail with OOM."
                    ))
            }
        }
        let policy = info["maxmemory_policy"] ?? "?"
        if policy != requiredPolicy, policy != "?" {
            findings.append(
                Finding(
                    .warning, "maxmemory-policy is \(policy), ClearML needs \(requiredPolicy)",
                    hint:
                        "With an evicting policy Redis silently drops ClearML's keys (queues, sessions); set maxmemory-policy \(requiredPolicy)."
                ))
        }

        // Persistence: a failed save stops writes when stop-writes-on-bgsave-error is on.
        if let rdb = info["rdb_last_bgsave_status"], rdb != "ok" {
            findings.append(
                Finding(
                    .critical, "the last background save failed (rdb_last_bgsave_status: \(rdb))",
                    hint:
                        "See the Redis log: disk full or an unwritable data directory. With stop-writes-on-bgsave-error, writes fail with MISCONF."
                ))
        }
        if info["aof_enabled"] == "1", let aof = info["aof_last_write_status"], aof != "ok" {
            findings.append(
                Finding(
                    .critical, "the append-only file cannot be written (aof_last_write_status: \(aof))",
                    hint: "See the Redis log: usually a full or read-only disk."))
        }

        // Connections: rejected since the previous sample, clients against maxclients.
        if let rejected = info.number("rejected_connections") {
            metrics["rejected_connections"] = rejected
            if let increase = await context.state.counterIncrease("\(sampleKey)/rejected_connections", value: rejected),
                increase > 0
            {
                findings.append(
                    Finding(
                        .warning, "\(increase.saturatingInt) connections rejected since the previous check",
                        hint:
                            "Redis hit maxclients: find the client that leaks connections (CLIENT LIST), or raise maxclients."
                    ))
            }
        }
        let clients = info.number("connected_clients") ?? 0
        metrics["connected_clients"] = clients
        var clientWords = "\(clients.saturatingInt) clients"
        if let maxclients, maxclients > 0 {
            metrics["maxclients"] = maxclients
            let percent = clients / maxclients * 100
            metrics["clients_used_percent"] = percent
            if percent > clientsWarningPercent {
                findings.append(
                    Finding(
                        .warning,
                        "\(clients.saturatingInt) clients of maxclients \(maxclients.saturatingInt) (\(DecimalText.fixed(percent, places: 0)) %)",
                        hint:
                            "Near the limit new connections are refused; find the client that leaks connections (CLIENT LIST)."
                    ))
            }
        } else {
            clientWords += " (maxclients unknown: CONFIG GET is unavailable)"
        }

        if info["loading"] == "1" {
            findings.append(
                Finding(
                    .warning, "Redis is loading its dataset and refuses commands until it is done",
                    hint: "Wait; if it repeats, Redis restarts in a loop."))
        }
        let role = info["role"] ?? "?"
        if role == "slave" || role == "replica" {
            let link = info["master_link_status"] ?? "?"
            findings.append(
                Finding(
                    link == "up" ? .warning : .critical,
                    "this Redis is a replica of \(info["master_host"] ?? "?"):\(info["master_port"] ?? "?") (link \(link)); ClearML writes fail on it",
                    hint: "Point ClearML and the probe at the primary."))
        }

        // Cluster mode: ClearML's multi-key commands (MGET/DEL over several keys, pipelines over dbs 0/4/8) need all
        // keys in one slot; a cluster answers CROSSSLOT, and a cluster has only db 0 while ClearML uses 0, 4 and 8.
        if info["cluster_enabled"] == "1" {
            metrics["cluster_enabled"] = 1
            findings.append(
                Finding(
                    .warning,
                    "Redis runs in cluster mode (cluster_enabled:1): ClearML's multi-key commands fail with CROSSSLOT, and a cluster has no db 4 or 8 (workers, the fileserver's token cache)",
                    hint: "Give ClearML a standalone Redis (or a primary/replica pair), not a cluster."))
        } else if info["cluster_enabled"] == "0" {
            metrics["cluster_enabled"] = 0
        }

        var sentinelWords = ""
        if let sentinel {
            let sinceKey = "redis.sentinel/\(store.display)/since"
            let lostKey = "redis.sentinel/\(store.display)/lost"
            let state = context.state
            let judged = StoreSentinel.judge(
                found: sentinel, knownSince: await state.mark(sinceKey), lostAt: await state.mark(lostKey),
                now: Date(), hold: lossHold, readOnly: context.readOnly)
            await state.updateMark(sinceKey, judged.knownSince)
            await state.updateMark(lostKey, judged.lostAt)
            metrics["sentinel_present"] = sentinel ? 1 : 0
            let evicting = policy != "noeviction" && policy != "?" && !policy.hasPrefix("volatile")
            if let finding = StoreSentinel.finding(
                judged.verdict, store: "Redis \(store.display)", evicting: evicting,
                holds: "queues, sessions, tasks")
            {
                findings.insert(finding, at: 0)
            } else {
                sentinelWords = "; " + StoreSentinel.words(judged.verdict)
            }
        }

        let base =
            "Redis \(version), role \(role == "slave" ? "replica" : role)"
            + (uptime.map { ", up \(Uptime.words($0))" } ?? "")
        if let (status, text, hint) = Finding.summarise(findings) {
            return builder.result(status: status, summary: "\(text) (\(base))", hint: hint, metrics: metrics)
        }
        return builder.result(
            status: .ok, summary: "\(base); \(memoryWords), policy \(policy); \(clientWords)\(sentinelWords)",
            metrics: metrics)
    }
}
