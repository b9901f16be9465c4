import Foundation
import ProbeCore

/// Reports and messages for alerting tests: a healthy stack, and the same stack with one service down, with
/// realistic symptoms above it.
public enum AlertFixtures {
    /// 2026-08-22 10:02:00 UTC.
    public static let t0 = Date(timeIntervalSince1970: 1_787_392_920)

    /// One result per service, all OK unless `failing` names it; failing services' dependents fail too (critical).
    public static func report(
        at date: Date = t0, failing: [Service: Status] = [:], summaries: [Service: String] = [:],
        omit: Set<Service> = []
    ) -> Report {
        func status(_ service: Service) -> Status {
            if let own = failing[service] { return own }
            // A dependent of a critical service fails as well, up the whole chain.
            return service.dependencies.contains { status($0) == .critical } ? .critical : .ok
        }
        var results: [CheckResult] = []
        func add(
            _ id: CheckID, target: String = "", service: Service? = nil, summary ok: String, failing bad: String,
            hint: String? = nil, evidence: String? = nil
        ) {
            let service = service ?? id.service
            guard !omit.contains(service) else { return }
            let state = status(service)
            results.append(
                CheckResult(
                    id: id, service: service, target: target, status: state,
                    summary: state == .ok ? ok : (summaries[service] ?? bad), hint: state == .ok ? nil : hint,
                    evidence: state == .ok ? nil : evidence, startedAt: date))
        }
        add(
            .mongoPing, summary: "MongoDB answers ping in 2 ms",
            failing: "MongoDB refuses connections (127.0.0.1:27017)",
            hint: "Start MongoDB: docker compose up -d mongo", evidence: "connection refused")
        add(
            .redisLatency, summary: "Redis p99 0.4 ms over 20 PINGs", failing: "Redis refuses connections (redis:6379)",
            hint: "Start Redis: docker compose up -d redis; check its logs for OOM", evidence: "connection refused")
        add(
            .redisWrite, summary: "Redis SET/GET/DEL works", failing: "Redis refuses writes",
            hint: "See redis.latency", evidence: "connection refused")
        add(
            .elasticsearchHealth, summary: "Elasticsearch green", failing: "Elasticsearch is red: 5 unassigned shards",
            hint: "Free disk on the data volume", evidence: "{\"status\":\"red\",\"unassigned_shards\":5}")
        add(.apiserverPing, summary: "apiserver answers debug.ping", failing: "apiserver does not answer debug.ping")
        add(
            .apiserverAuth, summary: "login and queues.get_all work", failing: "auth.login fails with HTTP 500",
            evidence: "{\"meta\":{\"result_code\":500,\"result_msg\":\"Internal server error\"}}")
        add(.fileserverRoundtrip, summary: "upload, download and delete work", failing: "upload fails with HTTP 500")
        add(.webserverUI, summary: "UI and its proxies work", failing: "the UI's /api proxy answers 502")
        add(
            .ingressRoutes, target: "api", service: .nginx, summary: "api route reaches the apiserver",
            failing: "api route answers 502")
        return Report(startedAt: date, durationMs: 120, results: results, notChecked: [])
    }

    public static func healthy(at date: Date = t0) -> Report { report(at: date) }

    /// A firing message with symptoms, as the tracker makes it for a Redis outage.
    public static func message(
        _ event: AlertMessage.Event = .firing, symptoms: Int = 3, statusURL: String? = "http://127.0.0.1:9464/",
        summary: String = "Redis refuses connections (redis:6379)",
        evidence: String? = "connection refused (errno 111) after 2 ms",
        title: String? = nil
    ) -> AlertMessage {
        let lines = [
            AlertMessage.Line(key: "apiserver.auth", status: .critical, summary: "auth.login fails with HTTP 500"),
            AlertMessage.Line(key: "fileserver.roundtrip", status: .critical, summary: "upload fails with HTTP 500"),
            AlertMessage.Line(key: "webserver.ui", status: .critical, summary: "the UI's /api proxy answers 502"),
        ]
        let symptomLines = (0..<symptoms).map { index in
            index < lines.count
                ? lines[index]
                : AlertMessage.Line(
                    key: "ingress.routes/route-\(index)", status: .critical,
                    summary: "route \(index) answers 502 <bad> & slow")
        }
        let resolved = event == .resolved
        return AlertMessage(
            messageID: "msg_3f2a9c0d1e4b5a6978877665544332211", incidentID: "clearml-probe/redis/1787392800",
            event: event,
            severity: resolved ? .ok : .critical, service: .redis,
            title: title ?? (resolved ? "Redis recovered" : "Redis is failing"),
            summary: resolved ? "All checks of Redis pass again, after 12 min." : summary,
            hint: resolved ? nil : "Start Redis: docker compose up -d redis; check its logs for OOM",
            evidence: resolved ? nil : evidence,
            causes: [
                AlertMessage.Line(
                    key: "redis.latency", status: resolved ? .ok : .critical,
                    summary: resolved ? "Redis p99 0.4 ms over 20 PINGs" : summary),
                AlertMessage.Line(
                    key: "redis.write", status: resolved ? .ok : .critical,
                    summary: resolved ? "Redis SET/GET/DEL works" : "Redis refuses writes"),
            ],
            symptoms: resolved ? [] : symptomLines, unconfirmed: false,
            startedAt: Date(timeIntervalSince1970: 1_787_392_800),
            resolvedAt: resolved ? t0.addingTimeInterval(600) : nil,
            createdAt: resolved ? t0.addingTimeInterval(600) : t0, statusURL: statusURL, instance: "clearml-probe")
    }

    /// The same message as one outbox entry: its own incident and message ids, created at `date`.
    public static func message(_ event: AlertMessage.Event, incident: String = "i1", id: String, at date: Date = t0)
        -> AlertMessage
    {
        var message = message(event)
        message.incidentID = incident
        message.messageID = id
        message.createdAt = date
        return message
    }
}

/// Golden files under `Tests/<target>/Golden/`, compared byte for byte. A missing or different file fails the test;
/// `CLEARML_PROBE_RECORD_GOLDENS=1` records what the code gives instead, to be reviewed like code before committing.
public enum Golden {
    /// The variable that asks for recording.
    public static let recordVariable = "CLEARML_PROBE_RECORD_GOLDENS"

    /// True when this run records goldens instead of comparing them.
    public static var recording: Bool { ProcessInfo.processInfo.environment[recordVariable] == "1" }

    /// Returns nil when it matches (or was recorded on request), else what is wrong and how to record it.
    public static func check(_ data: Data, _ relativePath: String) -> String? {
        let path = Repository.path(relativePath)
        if recording {
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: path))
            } catch {
                return "cannot record \(relativePath): \(error)"
            }
            return nil
        }
        guard FileManager.default.fileExists(atPath: path) else {
            return "\(relativePath) is missing; run the test with \(recordVariable)=1 to record it, then review it"
        }
        guard let expected = FileManager.default.contents(atPath: path) else { return "cannot read \(relativePath)" }
        if expected == data { return nil }
        return
            "\(relativePath) differs (\(recordVariable)=1 records it):\n--- expected\n\(String(decoding: expected, as: UTF8.self))\n--- got\n\(String(decoding: data, as: UTF8.self))"
    }

    /// JSON pretty-printed with sorted keys, so golden files read and diff well.
    public static func pretty(_ data: Data) -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: data),
            let pretty = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return data }
        return pretty + Data("\n".utf8)
    }
}
