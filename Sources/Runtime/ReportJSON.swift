import Foundation
import ProbeCore

/// The JSON report of the interface contract (`run --format json`, the sidecar's `/status`). Fields may be added,
/// never renamed.
public enum ReportJSON {
    public struct Document: Codable, Sendable {
        public var status: Status
        public var started_at: String
        public var duration_ms: Double
        public var checks: [Check]
        public var root_causes: [String]
        public var not_checked: [NotCheckedEntry]
        /// Per layer: its own status, and the root causes elsewhere that its failing symptoms come from.
        public var layers: [LayerEntry]
    }

    public struct LayerEntry: Codable, Sendable {
        public var layer: String
        public var status: Status
        /// "ok", a status word, or "affected" (its own checks pass, some fail as symptoms of another root cause).
        public var state: String
        public var affected_by: [String]
    }

    public struct Check: Codable, Sendable {
        public var key: String
        public var id: String
        public var layer: String
        public var service: String
        public var target: String
        public var status: Status
        public var summary: String
        public var hint: String?
        public var duration_ms: Double
        public var started_at: String
        public var metrics: [String: Double]
        public var timings: [String: Double]
        public var error: String?
        public var evidence: String?
        public var role: String
        public var root_cause: String?
    }

    public struct NotCheckedEntry: Codable, Sendable {
        public var id: String
        public var layer: String
        public var reason: String
    }

    public static func document(_ report: Report) -> Document {
        Document(
            status: report.status, started_at: timestamp(report.startedAt),
            duration_ms: report.durationMs.rounded(toPlaces: 3),
            checks: report.results.map { result in
                Check(
                    key: result.key, id: result.id.rawValue, layer: result.layer.rawValue,
                    service: result.service.rawValue,
                    target: result.target, status: result.status, summary: result.summary, hint: result.hint,
                    duration_ms: result.durationMs.rounded(toPlaces: 3), started_at: timestamp(result.startedAt),
                    metrics: result.metrics.mapValues { $0.rounded(toPlaces: 3) },
                    timings: result.timings.mapValues { $0.rounded(toPlaces: 3) }, error: result.error,
                    evidence: result.evidence, role: result.role.rawValue, root_cause: result.rootCause)
            },
            root_causes: report.rootCauses,
            not_checked: report.notChecked.map {
                NotCheckedEntry(id: $0.id.rawValue, layer: $0.id.layer.rawValue, reason: $0.reason)
            },
            layers: LayerStatus.all(in: report).map { standing in
                LayerEntry(
                    layer: standing.layer.rawValue, status: standing.status,
                    state: standing.status == .ok && standing.isAffected ? "affected" : standing.status.rawValue,
                    affected_by: standing.affectedBy)
            })
    }

    public static func encode(_ report: Report, pretty: Bool = true) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // `root_cause` must be present as null for healthy results and root causes (the contract), so encode nils.
        let data = (try? encoder.encode(document(report))) ?? Data("{}".utf8)
        return withExplicitNulls(data, pretty: pretty)
    }

    /// Swift's encoder drops nil optionals; the contract wants `"root_cause": null` and `"error": null`.
    static func withExplicitNulls(_ data: Data, pretty: Bool) -> Data {
        guard var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let checks = object["checks"] as? [[String: Any]]
        else { return data }
        object["checks"] = checks.map { check -> [String: Any] in
            var check = check
            for key in ["root_cause", "error", "hint", "evidence"] where check[key] == nil { check[key] = NSNull() }
            return check
        }
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        return (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? data
    }

    static func timestamp(_ date: Date) -> String {
        UTCTimestamp.rfc3339(date, fractionDigits: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
