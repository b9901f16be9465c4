import Foundation
import ProbeCore

/// `/metrics` in the Prometheus text format 0.0.4, written by hand from the latest snapshot (the format is small and
/// stable; a client library would add build time and keep its own registry state for values we already hold).
///
/// Labels are bounded by construction: `check` is a catalog id, `target` a name from the config (a route, a queue,
/// a replica), `phase`/`state`/`layer`/`service` fixed words. Never a worker id or anything else that grows.
/// Every numeric metric of a result becomes a gauge `clearml_probe_<check>_<metric>` in base units
/// (`_ms` → `_seconds`, `_percent` → `_ratio`).
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: StatusSnapshot, health: HealthVerdict, process: ProcessStats? = .current())
        -> String
    {
        var out = Writer()
        out.family("clearml_probe_build_info", "gauge", "Build of the probe; the value is always 1.")
        out.sample("clearml_probe_build_info", ["version": BuildInfo.version, "instance": snapshot.instance], 1)
        out.family(
            "clearml_probe_scheduler_alive", "gauge", "1 while the scheduler runs checks on time (what /healthz says).")
        out.sample("clearml_probe_scheduler_alive", [:], health.alive ? 1 : 0)
        out.family("clearml_probe_start_time_seconds", "gauge", "When the sidecar started, in seconds since the epoch.")
        out.sample("clearml_probe_start_time_seconds", [:], snapshot.startedAt.timeIntervalSince1970)
        out.family(
            "clearml_probe_cycles_total", "counter", "Complete cycles: every check at its normal cadence ran once.")
        out.sample("clearml_probe_cycles_total", [:], Double(snapshot.cycles))
        if let last = snapshot.lastCycleAt {
            out.family("clearml_probe_last_cycle_timestamp_seconds", "gauge", "When the last complete cycle finished.")
            out.sample("clearml_probe_last_cycle_timestamp_seconds", [:], last.timeIntervalSince1970)
        }
        out.family("clearml_probe_runs_total", "counter", "Check runs finished (skipped runs included).")
        out.sample("clearml_probe_runs_total", [:], Double(snapshot.runs))

        let ids = snapshot.cadence.keys.sorted()
        out.family(
            "clearml_probe_check_period_seconds", "gauge",
            "Current period between runs of a check (longer while it backs off).")
        for id in ids {
            out.sample(
                "clearml_probe_check_period_seconds", ["check": id.rawValue], snapshot.cadence[id]!.periodSeconds)
        }
        out.family(
            "clearml_probe_check_consecutive_failures", "gauge",
            "Consecutive critical, unknown or skipped runs of a check.")
        for id in ids {
            out.sample(
                "clearml_probe_check_consecutive_failures", ["check": id.rawValue],
                Double(snapshot.cadence[id]!.consecutiveFailures))
        }
        out.family(
            "clearml_probe_check_overruns_total", "counter",
            "Runs that did not return by their deadline (stuck in a C call).")
        for id in Set(ids).union(snapshot.overruns.keys).sorted() {
            out.sample("clearml_probe_check_overruns_total", ["check": id.rawValue], Double(snapshot.overruns[id] ?? 0))
        }

        if let report = snapshot.report { results(report, into: &out) }

        let alerts = snapshot.alerts
        out.family("clearml_probe_alerting_attached", "gauge", "1 when an alerting pipeline reports its state here.")
        out.sample("clearml_probe_alerting_attached", [:], alerts == nil ? 0 : 1)
        out.family("clearml_probe_alert_open_incidents", "gauge", "Incidents currently firing.")
        out.sample("clearml_probe_alert_open_incidents", [:], Double(alerts?.openIncidents ?? 0))
        out.family("clearml_probe_alert_outbox_depth", "gauge", "Messages waiting for delivery.")
        out.sample("clearml_probe_alert_outbox_depth", [:], Double(alerts?.outboxDepth ?? 0))
        out.family(
            "clearml_probe_alert_dead_letters", "gauge", "Messages that failed permanently and were not delivered.")
        out.sample("clearml_probe_alert_dead_letters", [:], Double(alerts?.deadLetters ?? 0))

        if let process {
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
            out.sample("process_resident_memory_bytes", [:], process.residentBytes)
            out.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
            out.sample("process_cpu_seconds_total", [:], process.cpuSeconds)
        }
        return out.text
    }

    static func results(_ report: Report, into out: inout Writer) {
        out.family(
            "clearml_probe_status", "gauge",
            "Overall status of the merged report: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
        out.sample("clearml_probe_status", [:], Double(report.status.exitCode))
        out.family(
            "clearml_probe_root_causes", "gauge", "Root causes (confirmed and unconfirmed) in the merged report.")
        out.sample("clearml_probe_root_causes", [:], Double(report.rootCauses.count))

        out.family(
            "clearml_probe_check_status", "gauge", "Status of a check result: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
        for result in report.results {
            var labels = labels(result)
            labels["layer"] = result.layer.rawValue
            labels["service"] = result.service.rawValue
            out.sample("clearml_probe_check_status", labels, Double(result.status.exitCode))
        }
        out.family("clearml_probe_check_state", "gauge", "One-hot status of a check result.")
        for result in report.results {
            for status in Status.allCases {
                var labels = labels(result)
                labels["state"] = status.rawValue
                out.sample("clearml_probe_check_state", labels, result.status == status ? 1 : 0)
            }
        }
        out.family(
            "clearml_probe_check_root_cause", "gauge",
            "1 when a failing result is a root cause (confirmed or not), 0 otherwise.")
        for result in report.results {
            let isCause = result.role == .rootCause || result.role == .unconfirmedRootCause
            out.sample("clearml_probe_check_root_cause", labels(result), isCause ? 1 : 0)
        }
        out.family("clearml_probe_check_duration_seconds", "gauge", "Duration of the latest run of a check result.")
        for result in report.results {
            out.sample("clearml_probe_check_duration_seconds", labels(result), result.durationMs / 1000)
        }
        out.family(
            "clearml_probe_check_last_run_timestamp_seconds", "gauge", "When the latest run of a check result started.")
        for result in report.results {
            out.sample(
                "clearml_probe_check_last_run_timestamp_seconds", labels(result), result.startedAt.timeIntervalSince1970
            )
        }
        out.family(
            "clearml_probe_check_http_phase_seconds", "gauge",
            "HTTP phase timings, cumulative from the start of the request.")
        for result in report.results {
            for (name, value) in result.timings.sorted(by: { $0.key < $1.key }) {
                var labels = labels(result)
                labels["phase"] = sanitize(name.hasSuffix("_ms") ? String(name.dropLast(3)) : name)
                out.sample("clearml_probe_check_http_phase_seconds", labels, value / 1000)
            }
        }
        // Every numeric metric, one family per check and metric name.
        var families: [String: [(CheckResult, Double)]] = [:]
        for result in report.results {
            for (name, value) in result.metrics {
                let (suffix, scaled) = baseUnit(name, value)
                let family = "clearml_probe_" + sanitize(result.id.rawValue) + "_" + suffix
                families[family, default: []].append((result, scaled))
            }
        }
        for name in families.keys.sorted() {
            let type = name.hasSuffix("_total") ? "counter" : "gauge"
            out.family(name, type, "Metric of the check's results, in base units.")
            for (result, value) in families[name]! { out.sample(name, labels(result), value) }
        }
    }

    static func labels(_ result: CheckResult) -> [String: String] {
        ["check": result.id.rawValue, "target": result.target]
    }

    /// `p99_ms` → (`p99_seconds`, value/1000); `heap_used_percent` → (`heap_used_ratio`, value/100); `_seconds`,
    /// `_bytes`, `_ratio`, `_total` and plain counts stay as they are.
    static func baseUnit(_ name: String, _ value: Double) -> (String, Double) {
        let clean = sanitize(name)
        if clean.hasSuffix("_ms") { return (String(clean.dropLast(3)) + "_seconds", value / 1000) }
        if clean.hasSuffix("_percent") { return (String(clean.dropLast(8)) + "_ratio", value / 100) }
        // Abbreviated or non-base time units (never used by the catalog's checks, kept out of /metrics anyway).
        for (suffix, factor) in [
            ("_s", 1.0), ("_sec", 1), ("_secs", 1), ("_minutes", 60), ("_hours", 3600), ("_days", 86400),
        ]
        where clean.hasSuffix(suffix) {
            return (String(clean.dropLast(suffix.count)) + "_seconds", value * factor)
        }
        for (suffix, factor) in [("_kb", 1e3), ("_mb", 1e6), ("_gb", 1e9)] where clean.hasSuffix(suffix) {
            return (String(clean.dropLast(suffix.count)) + "_bytes", value * factor)
        }
        return (clean, value)
    }

    /// A metric or label name: `[a-zA-Z_][a-zA-Z0-9_]*`, lowercased.
    static func sanitize(_ text: String) -> String {
        var out = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        while out.contains("__") { out = out.replacingOccurrences(of: "__", with: "_") }
        if out.first?.isNumber ?? true { out = "_" + out }
        return out
    }

    struct Writer {
        var text = ""
        var seen: Set<String> = []

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            var line = name
            if !labels.isEmpty {
                line +=
                    "{"
                    + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(
                        separator: ",") + "}"
            }
            // A key made twice (two metrics that normalise to one name) would make the exposition invalid.
            guard seen.insert(line).inserted else { return }
            text += line + " " + format(value) + "\n"
        }

        func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }

        func format(_ value: Double) -> String {
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return "\(value)"
        }
    }
}

/// The process's own resident memory and CPU time, read from /proc (Linux), for `/metrics` and the benchmark.
public struct ProcessStats: Sendable, Equatable {
    public var residentBytes: Double
    public var cpuSeconds: Double

    public static func current() -> ProcessStats? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based), so indices 11 and 12 here.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        return ProcessStats(residentBytes: pages * pageSize, cpuSeconds: (user + system) / max(ticks, 1))
    }
}
