import Foundation
import ProbeCore

/// `/status`: the JSON report of the interface contract (the same document as `run --format json`) for the latest
/// merged report, plus an `alerts` object (the alerting pipeline's state) and a `sidecar` object (cycles, health).
public enum StatusDocument {
    public static func encode(_ snapshot: StatusSnapshot, health: HealthVerdict) -> Data {
        var object: [String: Any]
        if let report = snapshot.report,
            let parsed = try? JSONSerialization.jsonObject(with: ReportJSON.encode(report, pretty: false))
                as? [String: Any]
        {
            object = parsed
        } else {
            object = [
                "status": Status.unknown.rawValue, "summary": "no check has finished yet", "checks": [Any](),
                "root_causes": [Any](), "not_checked": [Any](),
            ]
        }
        // The pipeline's own document (incidents, outbox, the dead-letter list) plus counts under names it does not use.
        var alerts: [String: Any] = ["dead_letters": [Any](), "incidents": [Any]()]
        for (key, value) in snapshot.alerts?.details ?? [:] { alerts[key] = value.foundationObject }
        alerts["attached"] = snapshot.alerts != nil
        alerts["open_incidents"] = snapshot.alerts?.openIncidents ?? 0
        alerts["outbox_depth"] = snapshot.alerts?.outboxDepth ?? 0
        alerts["dead_letter_count"] = snapshot.alerts?.deadLetters ?? 0
        object["alerts"] = alerts
        var sidecar: [String: Any] = [
            "alive": health.alive, "health": health.reason, "cycles": snapshot.cycles, "runs": snapshot.runs,
            "started_at": ReportJSON.timestamp(snapshot.startedAt), "version": BuildInfo.version,
            "instance": snapshot.instance,
        ]
        sidecar["last_cycle_at"] = snapshot.lastCycleAt.map(ReportJSON.timestamp) ?? NSNull()
        sidecar["cadence"] = Dictionary(
            uniqueKeysWithValues: snapshot.cadence.map { id, cadence in
                (
                    id.rawValue,
                    [
                        "interval_s": cadence.intervalSeconds, "period_s": cadence.periodSeconds,
                        "consecutive_failures": cadence.consecutiveFailures,
                    ] as [String: Any]
                )
            })
        object["sidecar"] = sidecar
        return
            (try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
    }
}

extension JSONValue {
    /// The value as Foundation objects, for `JSONSerialization`.
    var foundationObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.foundationObject)
        case .object(let values): values.mapValues(\.foundationObject)
        }
    }
}
