import Foundation
import ProbeCore

/// The report for people: the verdict, root causes first with their hints and symptoms, then one line per check
/// with its latency, then what could not be checked. Colour only when asked (a terminal, no NO_COLOR).
public struct TextReport: Sendable {
    public var colour: Bool

    public init(colour: Bool) { self.colour = colour }

    public func render(_ report: Report) -> String {
        var lines: [String] = []
        let failing = report.results.filter { $0.status != .ok }.count
        var headline = "\(paint(report.status.label, report.status)) clearml-probe: "
        if report.rootCauses.isEmpty {
            headline +=
                failing == 0
                ? "all \(report.results.count) checks OK" : "\(failing) of \(report.results.count) checks not OK"
        } else {
            let count = report.rootCauses.count
            headline += "\(count) root cause\(count == 1 ? "" : "s")"
            let symptoms = report.results.filter { $0.role == .symptom }.count
            if symptoms > 0 { headline += ", \(symptoms) symptom\(symptoms == 1 ? "" : "s")" }
            headline += " in \(report.results.count) checks"
        }
        headline += " (\(Durations.format(seconds: report.durationMs / 1000)))"
        lines.append(headline)

        if !report.rootCauses.isEmpty {
            lines.append("")
            lines.append(bold("Root causes"))
            for key in report.rootCauses {
                guard let cause = report.result(key) else { continue }
                let tag =
                    cause.role == .unconfirmedRootCause ? " (unconfirmed: \(unchecked(cause, report)) not checked)" : ""
                lines.append("  \(paint(pad(cause.status.label, 8), cause.status)) \(cause.key)\(tag)")
                lines.append("           \(cause.summary)")
                if let hint = cause.hint { lines.append("           hint: \(hint)") }
                if let evidence = cause.evidence, cause.status != .ok { lines.append("           seen: \(evidence)") }
                let symptoms = report.symptoms(of: key)
                if !symptoms.isEmpty {
                    lines.append("           symptoms: " + symptoms.map(\.key).joined(separator: ", "))
                }
            }
        }

        lines.append("")
        lines.append(bold("Checks"))
        for layer in Layer.allCases {
            let results = report.results.filter { $0.layer == layer }
            guard !results.isEmpty else { continue }
            lines.append("  \(layer.rawValue)")
            let width = min(34, results.map(\.key.count).max() ?? 0)
            for result in results {
                var line =
                    "    \(paint(pad(result.status.label, 8), result.status)) \(pad(result.key, width))  \(result.summary)"
                if let cause = result.rootCause { line += "  [symptom of \(cause)]" }
                if result.role == .unreachableFromProbe { line += "  [unreachable from the probe]" }
                lines.append(line)
            }
        }

        if !report.notChecked.isEmpty {
            lines.append("")
            lines.append(bold("Not checked"))
            let width = min(22, report.notChecked.map(\.id.rawValue.count).max() ?? 0)
            for entry in report.notChecked {
                lines.append("    \(pad(entry.id.rawValue, width))  \(entry.reason)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func unchecked(_ result: CheckResult, _ report: Report) -> String {
        let services: [Service] = result.dependsOn.compactMap { dependency in
            switch dependency {
            case .service(let service):
                report.results.contains { $0.service == service && $0.status != .unknown } ? nil : service
            case .check(let id): report.results.contains { $0.id == id && $0.status != .unknown } ? nil : id.service
            case .result(let key):
                report.results.contains { $0.key == key && $0.status != .unknown } ? nil : result.service
            }
        }
        let names = Array(Set(services.map(\.displayName))).sorted()
        return names.isEmpty ? "a dependency" : names.joined(separator: ", ")
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    func paint(_ text: String, _ status: Status) -> String {
        guard colour else { return text }
        let code =
            switch status {
            case .ok: "32"
            case .warning: "33"
            case .critical: "31;1"
            case .unknown: "35"
            }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
}
