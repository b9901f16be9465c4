import Foundation
import Notifiers
import ProbeCore
import TestSupport

/// Messages every platform's golden payloads are made from: a firing, its RESOLVED, an incident with symptoms (and
/// an unconfirmed root cause), and one too big for any platform.
enum PlatformFixtures {
    static let started = Date(timeIntervalSince1970: 1_787_392_920)  // 2026-08-22T10:02:00Z
    static let created = started.addingTimeInterval(120)
    static let resolved = started.addingTimeInterval(29 * 60)
    static let now = created.addingTimeInterval(1)

    static let firing = AlertMessage(
        messageID: "msg-0001", incidentID: "prod/redis/1787392920", event: .firing, severity: .critical,
        service: .redis,
        title: "Redis: writes refused (MISCONF)",
        summary:
            "SET clearml-probe:prod:write failed: MISCONF Redis is configured to save RDB snapshots & cannot persist",
        hint: "Check the disk of the Redis volume; <b>stop-writes-on-bgsave-error</b> is on.",
        evidence:
            "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. @everyone <script>",
        causes: [
            .init(key: "redis.write", status: .critical, summary: "MISCONF: writes refused"),
            .init(key: "redis.status", status: .warning, summary: "last RDB save failed 12m ago"),
        ],
        startedAt: started, createdAt: created, statusURL: "https://probe.example/status", instance: "prod")

    static var resolvedMessage: AlertMessage {
        var message = firing
        message.messageID = "msg-0002"
        message.event = .resolved
        message.resolvedAt = resolved
        message.createdAt = resolved
        return message
    }

    static let symptoms = AlertMessage(
        messageID: "msg-0003", incidentID: "prod/apiserver/1787392920", event: .firing, severity: .critical,
        service: .apiserver,
        title: "apiserver is down", summary: "debug.ping: connection refused on apiserver:8008",
        hint: "docker compose logs apiserver", evidence: nil,
        causes: [.init(key: "apiserver.ping", status: .critical, summary: "connection refused")],
        symptoms: [
            .init(key: "ingress.routes/api", status: .critical, summary: "api route: 502 Bad Gateway"),
            .init(key: "webserver.ui", status: .critical, summary: "/api/debug.ping through the webserver: 502"),
            .init(key: "agents.workers", status: .unknown, summary: "workers.get_all failed: apiserver unreachable"),
        ],
        unconfirmed: true, startedAt: started, createdAt: created, statusURL: nil, instance: "prod")

    static var huge: AlertMessage {
        var message = symptoms
        message.messageID = "msg-0004"
        message.incidentID = "prod/elasticsearch/1787392920"
        message.service = .elasticsearch
        message.title = "Elasticsearch: " + String(repeating: "flood-stage watermark exceeded ", count: 40)
        message.summary = String(repeating: "disk 96% used on es-data-0; ", count: 100)
        message.evidence = String(
            repeating:
                "index [events-log-d1bd92a3b0] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark]; ",
            count: 200)
        message.symptoms = (1...300).map {
            .init(
                key: "ingress.routes/r\($0)", status: .critical,
                summary: "route \($0): 500 from upstream, events could not be written")
        }
        return message
    }

    static let cases: [(String, AlertMessage)] = [
        ("firing", firing), ("resolved", resolvedMessage), ("symptoms", symptoms), ("truncated", huge),
    ]

    static let substitution = EnvironmentSubstitution(environment: [:])
}

extension Data {
    var json: Any? { try? JSONSerialization.jsonObject(with: self) }
    var text: String { String(decoding: self, as: UTF8.self) }
}
