import Foundation
import NativeClients
import ProbeCore

/// `mongo.status`: `serverStatus` (connections in use, version, uptime: a restart since the previous sample is a
/// warning), `replSetGetStatus` (member health and lag; code 76 on a standalone), and `dbStats` free space of the
/// data volume, against the thresholds of docs/data-stores.md. Also a sentinel document the probe owns
/// (`MongoSentinel`: `_id` `<instance>:sentinel` in `clearml_probe.probe`, read by `_id` every run, inserted only when
/// missing): missing after it was there means MongoDB came back empty (`StoreSentinel`). `--read-only` reads it but
/// never writes it.
public struct MongoStatusCheck: Check {
    public var store: MongoStore
    public var connectionsWarningPercent: Double
    public var lagCritical: Double
    public var diskWarningFreePercent: Double
    public var diskCriticalFreePercent: Double
    /// The sentinel's `_id`; nil turns the sentinel off (`sentinel: false`).
    public var sentinelID: String?
    /// How long a loss stays a finding after it was found (the sentinel is written again at once).
    public var lossHold: Double = 3600

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let connections = try options.double("connections_warning_percent", default: 80, range: 1...100)
        let lag = try options.duration("replication_lag_critical", default: 10, minimum: 0.001)
        let diskWarning = try options.double("disk_warning_free_percent", default: 20, range: 0...100)
        let diskCritical = try options.double("disk_critical_free_percent", default: 10, range: 0...100)
        guard diskCritical <= diskWarning else {
            throw options.error(
                key: "disk_critical_free_percent",
                "must not be above disk_warning_free_percent (\(DecimalText.shortest(diskWarning)))")
        }
        let sentinel = try options.bool("sentinel", default: true)
        let hold = try options.duration("data_loss_hold", default: 3600, minimum: 1)
        guard let store = config.dataStores.mongo else { return MongoStep.notConfigured() }
        var check = MongoStatusCheck(
            store: store, connectionsWarningPercent: connections, lagCritical: lag,
            diskWarningFreePercent: diskWarning, diskCriticalFreePercent: diskCritical)
        check.sentinelID = sentinel ? MongoSentinel.id(instance: config.instance) : nil
        check.lossHold = hold
        return .ready(check)
    }

    public init(
        store: MongoStore, connectionsWarningPercent: Double = 80, lagCritical: Double = 10,
        diskWarningFreePercent: Double = 20, diskCriticalFreePercent: Double = 10
    ) {
        self.store = store
        self.connectionsWarningPercent = connectionsWarningPercent
        self.lagCritical = lagCritical
        self.diskWarningFreePercent = diskWarningFreePercent
        self.diskCriticalFreePercent = diskCriticalFreePercent
    }

    struct Outcome: Sendable {
        var serverStatus: JSONValue?
        var replication: Result<JSONValue, MongoFailure>?
        var dbStats: Result<JSONValue, MongoFailure>?
        /// Whether the sentinel was there (nil: not read, or off), and how its insert ended when it was missing.
        var sentinel: Bool?
        var sentinelRead: MongoFailure?
        var sentinelWrite: MongoSentinel.Write?
        var failure: MongoFailure?
    }

    static let serverStatusCommand =
        #"{"serverStatus": 1, "repl": 1, "metrics": 0, "locks": 0, "wiredTiger": 0, "opLatencies": 0, "transactions": 0, "tcmalloc": 0}"#

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .mongoStatus)
        let (sentinelID, instance, write) = (sentinelID, context.config.instance, !context.readOnly)
        let (database, collection) = (MongoStep.database, MongoStep.collection)
        let outcome = await MongoStep.connection(store, context).session(deadline: context.deadline) {
            session -> Outcome in
            var outcome = Outcome()
            switch session.command(Self.serverStatusCommand, database: "admin", step: "serverStatus") {
            case .failure(let failure):
                outcome.failure = failure
                return outcome
            case .success(let reply): outcome.serverStatus = reply.value
            }
            outcome.replication = session.command(
                #"{"replSetGetStatus": 1}"#, database: "admin", step: "replSetGetStatus"
            ).map(\.value)
            if case .failure(let failure) = outcome.replication, failure.kind != .server { return outcome }
            outcome.dbStats = session.command(#"{"dbStats": 1}"#, database: "admin", step: "dbStats").map(\.value)
            guard let sentinelID else { return outcome }
            switch session.findOne(
                database: database, collection: collection, filter: MongoSentinel.filter(id: sentinelID))
            {
            case .failure(let failure): outcome.sentinelRead = failure  // not judged
            case .success(let reply):
                let found = MongoSentinel.found(reply.value, id: sentinelID)
                outcome.sentinel = found
                if !found, write {
                    // w:majority, j:true: a sentinel a failover or a crash could roll back would later look lost.
                    let concern = MongoWriteConcern(wtimeoutMs: max(1, min(1000, Int(session.remaining * 1000))))
                    let document = MongoSentinel.document(id: sentinelID, instance: instance, at: Date())
                    let insert = session.insertOne(
                        database: database, collection: collection, document: document, writeConcern: concern)
                    if case .failure(let failure) = insert {
                        outcome.sentinelWrite = MongoSentinel.write(failure: failure)
                    } else {
                        outcome.sentinelWrite = MongoSentinel.write(failure: nil)
                    }
                }
            }
            return outcome
        }
        if let failure = outcome.failure {
            return [MongoStep.failure(failure, what: "serverStatus", store: store, context: context, builder: builder)]
        }
        return [await judge(outcome, context: context, builder: builder)]
    }

    func judge(_ outcome: Outcome, context: CheckContext, builder: ResultBuilder) async -> CheckResult {
        let status = outcome.serverStatus ?? .object([:])
        var metrics: [String: Double] = [:]
        var findings: [Finding] = []
        let version = status["version"]?.string ?? "?"
        let uptime = status["uptime"]?.double
        if let uptime {
            metrics["uptime_seconds"] = uptime
            if await context.state.restarted("mongo.status/\(store.display)/uptime_s", uptimeSeconds: uptime) {
                findings.append(
                    Finding(
                        .warning, "MongoDB restarted \(Uptime.words(uptime)) ago",
                        hint: "See why in its log (OOM kill, crash, deploy)."))
            }
        }

        // Connections in use against what the server allows.
        var connectionWords = ""
        if let current = status.at("connections.current")?.double,
            let available = status.at("connections.available")?.double
        {
            let percent = current / max(1, current + available) * 100
            metrics["connections_current"] = current
            metrics["connections_available"] = available
            metrics["connections_used_percent"] = percent
            connectionWords =
                "\(current.saturatingInt) connections (\(DecimalText.fixed(percent, places: 0)) % of the limit)"
            if percent > connectionsWarningPercent {
                findings.append(
                    Finding(
                        .warning,
                        "\(current.saturatingInt) connections in use, \(DecimalText.fixed(percent, places: 0)) % of the limit (\(available.saturatingInt) available)",
                        hint:
                            "Near the limit new connections are refused: find the client that leaks them (db.currentOp()), or raise net.maxIncomingConnections / the ulimit."
                    ))
            }
        }

        // Replication.
        var roleWords = "standalone"
        switch outcome.replication {
        case .success(let replSet)?:
            let (words, replicationFindings) = judgeReplicaSet(replSet, metrics: &metrics)
            roleWords = words
            findings += replicationFindings
        case .failure(let failure)? where failure.kind == .server && failure.code == 76:
            break  // NoReplicationEnabled: a standalone, as ClearML runs it
        case .failure(let failure)?:
            findings.append(
                Finding(
                    MongoErrorCodes.isAuthentication(failure.code) ? .unknown : .warning,
                    "replica-set state unknown: replSetGetStatus failed with \(MongoStep.codeWords(failure))",
                    hint: MongoErrorCodes.hint(failure.code)))
        case nil: break
        }

        // Free space of the data volume.
        var diskWords = ""
        switch outcome.dbStats {
        case .success(let stats)?:
            if let total = stats["fsTotalSize"]?.double, let used = stats["fsUsedSize"]?.double, total > 0 {
                let free = max(0, total - used)
                let percent = free / total * 100
                metrics["disk_free_bytes"] = free
                metrics["disk_total_bytes"] = total
                metrics["disk_free_percent"] = percent
                diskWords = "data volume \(ByteSize.format(free)) free (\(DecimalText.fixed(percent, places: 0)) %)"
                let words =
                    "the data volume has \(ByteSize.format(free)) free of \(ByteSize.format(total)) (\(DecimalText.fixed(percent, places: 1)) %)"
                if percent < diskCriticalFreePercent {
                    findings.append(
                        Finding(
                            .critical, words,
                            hint:
                                "Free space or grow the volume: MongoDB stops when the disk is full, and ClearML with it."
                        ))
                } else if percent < diskWarningFreePercent {
                    findings.append(Finding(.warning, words, hint: "Plan more space for the MongoDB volume."))
                }
            }
        case .failure(let failure)?:
            findings.append(
                Finding(
                    MongoErrorCodes.isAuthentication(failure.code) ? .unknown : .warning,
                    "free space unknown: dbStats failed with \(MongoStep.codeWords(failure))",
                    hint: MongoErrorCodes.hint(failure.code)))
        case nil: break
        }

        let sentinelWords = await judgeSentinel(outcome, context: context, findings: &findings, metrics: &metrics)

        let base = "MongoDB \(version), \(roleWords)" + (uptime.map { ", up \(Uptime.words($0))" } ?? "")
        if let (worst, text, hint) = Finding.summarise(findings) {
            return builder.result(status: worst, summary: "\(text) (\(base))", hint: hint, metrics: metrics)
        }
        let details = [connectionWords, diskWords, sentinelWords].filter { !$0.isEmpty }.joined(separator: "; ")
        return builder.result(status: .ok, summary: details.isEmpty ? base : "\(base); \(details)", metrics: metrics)
    }

    /// The sentinel's verdict from what was read and what the state remembers; its finding goes first (a loss is
    /// the worst news). Returns the words for a healthy summary.
    func judgeSentinel(
        _ outcome: Outcome, context: CheckContext, findings: inout [Finding], metrics: inout [String: Double]
    ) async -> String {
        if let failure = outcome.sentinelRead {
            return
                "sentinel not read (\(failure.kind == .server ? MongoStep.codeWords(failure) : failure.kind.rawValue)): data loss is not watched"
        }
        guard let found = outcome.sentinel else { return "" }
        var notWritten: String?
        if case .failed(let code)? = outcome.sentinelWrite { notWritten = code }
        let sinceKey = "mongo.sentinel/\(store.display)/since"
        let lostKey = "mongo.sentinel/\(store.display)/lost"
        let state = context.state
        // A sentinel that could not be written is judged as under --read-only: not known from now on.
        let judged = StoreSentinel.judge(
            found: found, knownSince: await state.mark(sinceKey), lostAt: await state.mark(lostKey),
            now: Date(), hold: lossHold, readOnly: context.readOnly || notWritten != nil)
        await state.updateMark(sinceKey, judged.knownSince)
        await state.updateMark(lostKey, judged.lostAt)
        metrics["sentinel_present"] = found ? 1 : 0
        if let finding = StoreSentinel.finding(
            judged.verdict, store: "MongoDB \(store.display)", evicting: false,
            holds: "users, projects, tasks, models, queues")
        {
            findings.insert(finding, at: 0)
            if let notWritten { findings.append(MongoSentinel.notWritten(notWritten)) }
            return ""
        }
        if let notWritten {
            findings.append(MongoSentinel.notWritten(notWritten))
            return ""
        }
        return StoreSentinel.words(judged.verdict)
    }

    /// Member health and lag behind the primary.
    func judgeReplicaSet(_ replSet: JSONValue, metrics: inout [String: Double]) -> (String, [Finding]) {
        let name = replSet["set"]?.string ?? "?"
        let members = replSet["members"]?.array ?? []
        var findings: [Finding] = []
        let primary = members.first { $0["stateStr"]?.string == "PRIMARY" }
        let primaryDate = MongoDates.parse(primary?["optimeDate"])
        var worstLag = 0.0
        var unhealthy: [String] = []
        for member in members {
            let memberName = member["name"]?.string ?? "?"
            if member["health"]?.double == 0 {
                unhealthy.append("\(memberName) (\(member["stateStr"]?.string ?? "?"))")
                continue
            }
            if member["stateStr"]?.string == "SECONDARY", let primaryDate,
                let date = MongoDates.parse(member["optimeDate"])
            {
                let lag = primaryDate.timeIntervalSince(date)
                if lag > worstLag { worstLag = lag }
                if lag > lagCritical {
                    findings.append(
                        Finding(
                            .critical,
                            "secondary \(memberName) lags \(DecimalText.fixed(lag, places: 0)) s behind the primary",
                            hint:
                                "A lagging member delays w:majority writes (ClearML's writes then wait or time out): check its disk, network and load."
                        ))
                }
            }
        }
        metrics["replication_lag_seconds"] = worstLag
        metrics["members"] = Double(members.count)
        metrics["members_unhealthy"] = Double(unhealthy.count)
        if !unhealthy.isEmpty {
            findings.append(
                Finding(
                    .critical, "replica-set member unreachable: \(unhealthy.joined(separator: ", "))",
                    hint:
                        "Start the member or remove it from the set; fewer healthy members than the majority means no primary."
                ))
        }
        if primary == nil {
            findings.append(
                Finding(
                    .critical, "replica set \(name) has no primary",
                    hint: "Writes fail until a primary is elected: check the members' health and network."))
        }
        let myState = members.first { $0["self"]?.bool == true }?["stateStr"]?.string?.lowercased() ?? "member"
        return ("\(myState) of replica set \(name) (\(members.count) members)", findings)
    }
}
