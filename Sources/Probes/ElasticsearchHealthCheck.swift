import Foundation
import NativeClients
import ProbeCore

/// `elasticsearch.health`: can Elasticsearch still take ClearML's events? Cluster status and unassigned shards,
/// JVM heap, data disk against the *effective* flood-stage watermark (percentage with its max headroom, ratio or
/// absolute size), read-only blocks on ClearML's indices, and write rejections since the previous sample; version
/// and uptime (a restart since the previous sample is a warning). Read-only: every call is a GET with `filter_path`,
/// and cluster settings are cached for `settings_cache`.
public struct ElasticsearchHealthCheck: Check {
    public struct Thresholds: Sendable {
        public var heapWarning: Double = 80
        public var heapCritical: Double = 90
        public var diskWarningFreePercent: Double = 20
        public var diskCriticalFreePercent: Double = 10
        /// Writes waiting in a node's write thread-pool queue: ClearML's event writes wait there (and the SDK with
        /// them) long before the queue (10000 by default in ES 8) is full and rejections are counted.
        public var writeQueueWarning: Double = 200
        public var writeQueueCritical: Double = 2000
        public init() {}
    }

    public var store: ElasticsearchStore
    public var thresholds: Thresholds
    public var indexPatterns: [String]
    /// Seconds the cluster settings (watermarks) are reused.
    public var settingsCache: Double
    /// When above 0, `_cluster/health` waits server-side up to this long for green (a 408 then carries the body).
    public var healthWait: Double

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        var thresholds = Thresholds()
        thresholds.heapWarning = try options.double("heap_warning_percent", default: 80, range: 1...100)
        thresholds.heapCritical = try options.double("heap_critical_percent", default: 90, range: 1...100)
        thresholds.diskWarningFreePercent = try options.double("disk_warning_free_percent", default: 20, range: 0...100)
        thresholds.diskCriticalFreePercent = try options.double(
            "disk_critical_free_percent", default: 10, range: 0...100)
        let patterns = try options.stringList("index_patterns") ?? ["events-*", "queue_metrics_*", "worker_stats_*"]
        thresholds.writeQueueWarning = try options.double("write_queue_warning", default: 200, range: 1...1_000_000)
        thresholds.writeQueueCritical = try options.double("write_queue_critical", default: 2000, range: 1...1_000_000)
        guard thresholds.writeQueueWarning <= thresholds.writeQueueCritical else {
            throw options.error(
                key: "write_queue_warning",
                "must not be above write_queue_critical (\(DecimalText.shortest(thresholds.writeQueueCritical)))")
        }
        let cache = try options.duration("settings_cache", default: 300)
        let wait = try options.duration("health_wait", default: 0)
        guard thresholds.heapWarning <= thresholds.heapCritical else {
            throw options.error(
                key: "heap_warning_percent",
                "must not be above heap_critical_percent (\(DecimalText.shortest(thresholds.heapCritical)))")
        }
        guard thresholds.diskCriticalFreePercent <= thresholds.diskWarningFreePercent else {
            throw options.error(
                key: "disk_critical_free_percent",
                "must not be above disk_warning_free_percent (\(DecimalText.shortest(thresholds.diskWarningFreePercent)))"
            )
        }
        if let bad = patterns.first(where: { $0.isEmpty || $0.contains("/") || $0.contains(" ") }) {
            throw options.error(key: "index_patterns", "'\(bad)' is not an index name pattern")
        }
        guard let store = config.dataStores.elasticsearch else {
            return .notConfigured("no Elasticsearch address (set CLEARML_ELASTIC_SERVICE_HOST or elasticsearch.host)")
        }
        return .ready(
            ElasticsearchHealthCheck(
                store: store, thresholds: thresholds, indexPatterns: patterns, settingsCache: cache, healthWait: wait))
    }

    public init(
        store: ElasticsearchStore, thresholds: Thresholds = Thresholds(),
        indexPatterns: [String] = ["events-*", "queue_metrics_*", "worker_stats_*"], settingsCache: Double = 300,
        healthWait: Double = 0
    ) {
        self.store = store
        self.thresholds = thresholds
        self.indexPatterns = indexPatterns
        self.settingsCache = settingsCache
        self.healthWait = healthWait
    }

    static let nodeFilter = [
        "nodes.*.name", "nodes.*.roles", "nodes.*.jvm.mem.heap_used_percent", "nodes.*.jvm.uptime_in_millis",
        "nodes.*.fs.total.total_in_bytes", "nodes.*.fs.total.available_in_bytes", "nodes.*.thread_pool.write.rejected",
        "nodes.*.thread_pool.write.queue", "nodes.*.thread_pool.write.active",
    ]
    static let healthFilter = [
        "status", "timed_out", "number_of_nodes", "number_of_data_nodes", "unassigned_shards",
        "unassigned_primary_shards", "active_shards_percent_as_number",
    ]

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .elasticsearchHealth)
        let es = ElasticsearchRequests(store: store)
        var metrics: [String: Double] = [:]

        let root: JSONValue
        switch await es.get("/", filterPath: ["version.number", "cluster_name"], context: context) {
        case .failure(let failure): return [es.result(failure, what: "GET /", context: context, builder: builder)]
        case .success(let answer): root = answer.json
        }
        guard let version = root.at("version.number")?.string else {
            return [
                builder.result(
                    status: .critical,
                    summary: "\(store.display) answers JSON without version.number: this is not Elasticsearch",
                    hint: "Something else listens on that address: check elasticsearch.host and port.")
            ]
        }

        var healthQuery: [String: String] = [:]
        if healthWait > 0 {
            healthQuery = [
                "wait_for_status": "green",
                "timeout": "\(max(1, Int((min(healthWait, context.remaining / 2)) * 1000)))ms",
            ]
        }
        let health: JSONValue
        switch await es.get(
            "/_cluster/health", query: healthQuery, filterPath: Self.healthFilter, context: context,
            acceptStatuses: [408])
        {
        case .failure(let failure):
            return [es.result(failure, what: "GET /_cluster/health", context: context, builder: builder)]
        case .success(let answer): health = answer.json
        }

        let nodes: JSONValue
        switch await es.get("/_nodes/stats/jvm,fs,thread_pool", filterPath: Self.nodeFilter, context: context) {
        case .failure(let failure):
            return [es.result(failure, what: "GET /_nodes/stats", context: context, builder: builder)]
        case .success(let answer): nodes = answer.json
        }

        var findings: [Finding] = []
        findings += judgeHealth(health, metrics: &metrics)
        // Without settings (a failed read), disks are judged by the percentages alone.
        let settings = await clusterSettings(es, context: context)
        findings += judgeNodes(nodes, settings: settings, metrics: &metrics)
        findings += await judgeCounters(nodes, context: context, metrics: &metrics)

        let blocksPath = "/" + indexPatterns.joined(separator: ",") + "/_settings/index.blocks.*"
        switch await es.get(
            blocksPath, query: ["flat_settings": "true", "allow_no_indices": "true", "ignore_unavailable": "true"],
            filterPath: ["*.settings"], context: context)
        {
        case .failure(let failure):
            let problem = es.result(failure, what: "GET \(blocksPath)", context: context, builder: builder)
            findings.append(
                Finding(
                    problem.status == .critical ? .warning : problem.status, "index blocks unknown (\(problem.summary))"
                ))
        case .success(let answer):
            findings += judgeBlocks(answer.json, metrics: &metrics)
        }

        let uptime = metrics["uptime_seconds"]
        let base =
            "Elasticsearch \(version), \(health["status"]?.string ?? "?")"
            + (uptime.map { ", up \(Uptime.words($0))" } ?? "")
        if let (status, text, hint) = Finding.summarise(findings) {
            return [builder.result(status: status, summary: "\(text) (\(base))", hint: hint, metrics: metrics)]
        }
        var details: [String] = []
        if let heap = metrics["heap_used_percent"] { details.append("heap \(DecimalText.fixed(heap, places: 0)) %") }
        if let free = metrics["disk_available_bytes"], let percent = metrics["disk_free_percent"] {
            details.append(
                "disk \(ByteSize.format(free)) free (\(DecimalText.fixed(percent, places: 0)) %)"
                    + (metrics["flood_stage_free_bytes"].map { ", flood stage below \(ByteSize.format($0))" } ?? ""))
        }
        return [builder.result(status: .ok, summary: ([base] + details).joined(separator: "; "), metrics: metrics)]
    }

    // MARK: - judgements

    func judgeHealth(_ health: JSONValue, metrics: inout [String: Double]) -> [Finding] {
        let unassigned = health["unassigned_shards"]?.double ?? 0
        let unassignedPrimaries = health["unassigned_primary_shards"]?.double
        metrics["unassigned_shards"] = unassigned
        if let nodes = health["number_of_nodes"]?.double { metrics["nodes"] = nodes }
        switch health["status"]?.string {
        case "red":
            let count = (unassignedPrimaries ?? unassigned).saturatingInt
            return [
                Finding(
                    .critical,
                    "cluster status red: \(count) primary shard\(count == 1 ? "" : "s") unassigned, those indices cannot take events",
                    hint: "GET _cluster/allocation/explain says why (a lost node, disk watermarks, a corrupt shard).")
            ]
        case "yellow":
            return [
                Finding(
                    .warning,
                    "cluster status yellow: \(unassigned.saturatingInt) replica shard\(unassigned == 1 ? "" : "s") unassigned",
                    hint:
                        "ClearML's indices have 0 replicas, so a single node should be green: an index with replicas was added, or a node left."
                )
            ]
        case "green": return []
        default:
            return [
                Finding(
                    .critical,
                    "cluster health has no status (\(health["timed_out"]?.bool == true ? "timed out" : "unexpected answer"))"
                )
            ]
        }
    }

    /// Effective watermarks from the (cached) cluster settings; nil when they cannot be read.
    func clusterSettings(_ es: ElasticsearchRequests, context: CheckContext) async -> ElasticsearchSettingsCache.Entry?
    {
        let key = store.url.absoluteString
        if let cached = await ElasticsearchSettingsCache.shared.get(key, ttl: settingsCache) { return cached }
        // Nested (not flat) settings, so filter_path can select the watermark subtree by plain names.
        guard
            case .success(let answer) = await es.get(
                "/_cluster/settings", query: ["include_defaults": "true"],
                filterPath: ["*.cluster.routing.allocation.disk.watermark"], context: context)
        else { return nil }
        let entry = ElasticsearchSettingsCache.Entry(
            persistent: DiskWatermark.flatten(answer.json["persistent"]),
            transient: DiskWatermark.flatten(answer.json["transient"]),
            defaults: DiskWatermark.flatten(answer.json["defaults"]), fetched: Date())
        await ElasticsearchSettingsCache.shared.set(key, entry)
        return entry
    }

    func judgeNodes(_ nodes: JSONValue, settings: ElasticsearchSettingsCache.Entry?, metrics: inout [String: Double])
        -> [Finding]
    {
        var findings: [Finding] = []
        let all = (nodes["nodes"]?.object ?? [:]).sorted { $0.key < $1.key }.map(\.value)
        func watermark(_ level: DiskWatermark.Level) -> DiskWatermark? {
            DiskWatermark.effective(
                level, persistent: settings?.persistent ?? [:], transient: settings?.transient ?? [:],
                defaults: settings?.defaults ?? [:])
        }
        let flood = settings == nil ? nil : watermark(.floodStage)
        let high = settings == nil ? nil : watermark(.high)
        var worstHeap = 0.0
        var worstDisk: (free: Double, percent: Double, flood: Double?)?
        for node in all {
            let name = node["name"]?.string ?? "?"
            if let heap = node.at("jvm.mem.heap_used_percent")?.double {
                worstHeap = max(worstHeap, heap)
                if heap > thresholds.heapCritical {
                    findings.append(
                        Finding(
                            .critical, "JVM heap of \(name) at \(DecimalText.fixed(heap, places: 0)) %",
                            hint:
                                "Near a full heap ES spends its time in GC and rejects work: raise -Xmx (ES_JAVA_OPTS) within the container's memory, or reduce load."
                        ))
                } else if heap > thresholds.heapWarning {
                    findings.append(
                        Finding(
                            .warning, "JVM heap of \(name) at \(DecimalText.fixed(heap, places: 0)) %",
                            hint:
                                "Watch it: above 90 % ES slows down in GC; raise -Xmx (ES_JAVA_OPTS) if it stays high.")
                    )
                }
            }
            let roles = node["roles"]?.array?.compactMap(\.string)
            let holdsData = roles.map { $0.contains { $0.hasPrefix("data") } } ?? true
            guard holdsData, let total = node.at("fs.total.total_in_bytes")?.double,
                let free = node.at("fs.total.available_in_bytes")?.double,
                total > 0
            else { continue }
            let percent = free / total * 100
            let floodBytes = flood?.freeThreshold(total: total)
            if worstDisk == nil || percent < worstDisk!.percent { worstDisk = (free, percent, floodBytes) }
            let amount =
                "\(name) has \(ByteSize.format(free)) free of \(ByteSize.format(total)) (\(DecimalText.fixed(percent, places: 1)) %)"
            if let flood, let floodBytes, free < floodBytes {
                findings.append(
                    Finding(
                        .critical,
                        "data disk of \(amount), below the flood-stage watermark (\(flood.words)): ES puts read-only blocks on its indices and ClearML cannot write events",
                        hint:
                            "Free disk space or grow the volume; ES 7.4+ lifts the blocks by itself once usage drops below the high watermark."
                    ))
                continue
            }
            // Percentage thresholds, capped like ES caps its own percentages (max_headroom), so a huge disk with
            // plenty of free bytes is not called full.
            let critical = capped(thresholds.diskCriticalFreePercent, total: total, by: flood)
            let warning = capped(thresholds.diskWarningFreePercent, total: total, by: high)
            if free < critical {
                findings.append(
                    Finding(
                        .critical, "data disk of \(amount)",
                        hint: "Free disk space or grow the volume before ES reaches its flood stage and blocks writes.")
                )
            } else if free < warning {
                findings.append(
                    Finding(
                        .warning, "data disk of \(amount)",
                        hint: "Plan more space for the Elasticsearch volume (or fewer retained events)."))
            }
        }
        metrics["heap_used_percent"] = worstHeap
        if let worstDisk {
            metrics["disk_available_bytes"] = worstDisk.free
            metrics["disk_free_percent"] = worstDisk.percent
            if let flood = worstDisk.flood { metrics["flood_stage_free_bytes"] = flood }
        }
        if all.isEmpty { findings.append(Finding(.warning, "no node statistics in the answer")) }
        return findings
    }

    /// `percent` of `total`, capped by the watermark's max headroom when it has one.
    func capped(_ percent: Double, total: Double, by watermark: DiskWatermark?) -> Double {
        let bytes = total * percent / 100
        if let headroom = watermark?.maxHeadroom, case .usedRatio = watermark?.form { return min(bytes, headroom) }
        return bytes
    }

    func judgeCounters(_ nodes: JSONValue, context: CheckContext, metrics: inout [String: Double]) async -> [Finding] {
        let all = (nodes["nodes"]?.object ?? [:]).values
        var findings: [Finding] = []
        let key = "elasticsearch.health/\(store.display)"
        let uptimes = all.compactMap { $0.at("jvm.uptime_in_millis")?.double }
        if let shortest = uptimes.min() {
            metrics["uptime_seconds"] = shortest / 1000
            if await context.state.restarted("\(key)/uptime_s", uptimeSeconds: shortest / 1000) {
                findings.append(
                    Finding(
                        .warning, "an Elasticsearch node restarted \(Uptime.words(shortest / 1000)) ago",
                        hint: "See why in its log (OOM kill, crash, deploy)."))
            }
        }
        let rejected = all.compactMap { $0.at("thread_pool.write.rejected")?.double }.reduce(0, +)
        metrics["write_rejected"] = rejected
        if let increase = await context.state.counterIncrease("\(key)/write_rejected", value: rejected), increase > 0 {
            findings.append(
                Finding(
                    .warning,
                    "\(increase.saturatingInt) writes rejected since the previous check (write thread pool full)",
                    hint:
                        "ES cannot keep up with ClearML's event writes: see heap, disk speed and the number of shards.")
            )
        }
        findings += judgeWriteQueue(Array(all), metrics: &metrics)
        return findings
    }

    /// The longest write queue of any node: how long ClearML's log, scalar and debug-image events wait before ES
    /// indexes them (the apiserver's ES timeout then fails the SDK's report and it seems to freeze).
    func judgeWriteQueue(_ nodes: [JSONValue], metrics: inout [String: Double]) -> [Finding] {
        let queues = nodes.compactMap { node in
            node.at("thread_pool.write.queue")?.double.map { (node["name"]?.string ?? "?", $0) }
        }
        guard let (name, longest) = queues.max(by: { $0.1 < $1.1 }) else { return [] }
        metrics["write_queue"] = longest
        guard longest > thresholds.writeQueueWarning else { return [] }
        let status: Status = longest > thresholds.writeQueueCritical ? .critical : .warning
        return [
            Finding(
                status,
                "\(Int(longest)) writes waiting in the write thread-pool queue of \(name) (\(status == .critical ? "critical" : "warning") above \(Int(status == .critical ? thresholds.writeQueueCritical : thresholds.writeQueueWarning))): ClearML's event writes wait, the SDK's reports stall",
                hint:
                    "ES indexes slower than ClearML writes: see heap, disk speed (iowait) and the number of shards; rejections follow when the queue is full."
            )
        ]
    }

    func judgeBlocks(_ answer: JSONValue, metrics: inout [String: Double]) -> [Finding] {
        let writeBlocks = ["index.blocks.read_only_allow_delete", "index.blocks.read_only", "index.blocks.write"]
        var blocked: [(index: String, block: String)] = []
        for (index, value) in (answer.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let settings = DiskWatermark.flatten(value["settings"])
            if let block = writeBlocks.first(where: { settings[$0]?.lowercased() == "true" }) {
                blocked.append((index, String(block.dropFirst("index.blocks.".count))))
            }
        }
        metrics["blocked_indices"] = Double(blocked.count)
        guard let first = blocked.first else { return [] }
        let more = blocked.count > 1 ? " and \(blocked.count - 1) more" : ""
        return [
            Finding(
                .critical,
                "\(first.block) block on \(first.index)\(more): ClearML cannot write its events there (it answers 500/4)",
                hint:
                    "Free disk space first; then lift it: PUT /\(first.index)/_settings {\"index.blocks.\(first.block)\": null}."
            )
        ]
    }
}
