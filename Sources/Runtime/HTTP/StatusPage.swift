import Foundation
import ProbeCore

/// `/`: one self-contained page a person can glance at. Root causes first, then every layer's checks with a
/// sparkline of recent latency. No external asset (works offline, nothing to fetch), refreshes itself with a meta
/// tag, and everything that came from a result is HTML-escaped.
public enum StatusPage {
    public static let refreshSeconds = 15
    /// No script, no remote anything: inline style only.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    public static func render(_ snapshot: StatusSnapshot, health: HealthVerdict, now: Date = Date()) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>\(escape(title(snapshot)))</title>
            <style>\(style)</style>
            </head><body>

            """
        html += header(snapshot, health: health, now: now)
        if let report = snapshot.report {
            html += rootCauses(report)
            html += layers(report, snapshot)
            if !report.notChecked.isEmpty {
                html += "<section id=\"not-checked\"><h2>Not checked</h2><ul>"
                for entry in report.notChecked {
                    html += "<li><b>\(escape(entry.id.rawValue))</b>: \(escape(entry.reason))</li>"
                }
                html += "</ul></section>\n"
            }
        } else {
            html += "<p id=\"waiting\">No check has finished yet.</p>\n"
        }
        html +=
            "<footer>Refreshes every \(refreshSeconds) s. Served from the latest results: nothing is probed on request. "
            + "<a href=\"/status\">JSON</a> · <a href=\"/metrics\">metrics</a></footer>\n</body></html>\n"
        return html
    }

    static func title(_ snapshot: StatusSnapshot) -> String {
        "\(snapshot.report?.status.label ?? "WAITING") · clearml-probe · \(snapshot.instance)"
    }

    static func header(_ snapshot: StatusSnapshot, health: HealthVerdict, now: Date) -> String {
        let status = snapshot.report?.status
        var line = ""
        if let report = snapshot.report {
            let causes = report.rootCauses.count
            let symptoms = report.results.filter { $0.role == .symptom }.count
            line =
                causes == 0
                ? "\(report.results.count) checks, no root cause"
                : "\(causes) root cause\(causes == 1 ? "" : "s"), \(symptoms) symptom\(symptoms == 1 ? "" : "s") in \(report.results.count) checks"
        }
        var html =
            "<header><h1><span id=\"overall\" class=\"badge \(status?.rawValue ?? "unknown")\" data-status=\"\(status?.rawValue ?? "none")\">"
            + "\(escape(status?.label ?? "WAITING"))</span> ClearML probe <small>\(escape(snapshot.instance))</small></h1>\n"
        html += "<p class=\"meta\">\(escape(line))"
        if let last = snapshot.lastCycleAt {
            html += " · last complete cycle \(age(now.timeIntervalSince(last))) ago (\(snapshot.cycles) cycles)"
        }
        html +=
            " · sidecar \(health.alive ? "alive" : "NOT ALIVE: " + escape(health.reason)) · v\(escape(BuildInfo.version))</p>\n"
        if let alerts = snapshot.alerts {
            html +=
                "<p class=\"meta\" id=\"alerts\">Alerting: \(alerts.openIncidents) open incident\(alerts.openIncidents == 1 ? "" : "s"), "
                + "\(alerts.outboxDepth) waiting, \(alerts.deadLetters) dead letter\(alerts.deadLetters == 1 ? "" : "s")</p>\n"
        }
        return html + "</header>\n"
    }

    static func rootCauses(_ report: Report) -> String {
        guard !report.rootCauses.isEmpty else { return "" }
        var html = "<section id=\"root-causes\"><h2>Root causes</h2>\n"
        for key in report.rootCauses {
            guard let cause = report.result(key) else { continue }
            let unconfirmed =
                cause.role == .unconfirmedRootCause ? " <em>(unconfirmed: a dependency could not be checked)</em>" : ""
            html += "<div class=\"cause \(cause.status.rawValue)\" data-key=\"\(escape(cause.key))\">"
            html +=
                "<span class=\"badge \(cause.status.rawValue)\">\(cause.status.label)</span> <b>\(escape(cause.key))</b>\(unconfirmed)"
            html += "<p>\(escape(cause.summary))</p>"
            if let hint = cause.hint { html += "<p class=\"hint\">Hint: \(escape(hint))</p>" }
            if let evidence = cause.evidence {
                html += "<p class=\"evidence\">Seen: <code>\(escape(evidence))</code></p>"
            }
            let symptoms = report.symptoms(of: key)
            if !symptoms.isEmpty {
                html +=
                    "<p class=\"symptoms\">Symptoms: " + symptoms.map { escape($0.key) }.joined(separator: ", ")
                    + "</p>"
            }
            html += "</div>\n"
        }
        return html + "</section>\n"
    }

    static func layers(_ report: Report, _ snapshot: StatusSnapshot) -> String {
        var html = ""
        for layer in Layer.allCases {
            let results = report.results.filter { $0.layer == layer }
            guard !results.isEmpty else { continue }
            guard let standing = LayerStatus.of(layer, in: report) else { continue }
            let worst = standing.status
            // Failing only as symptoms of a root cause elsewhere: "affected", never an OK badge above failing rows.
            let badge =
                worst == .ok && standing.isAffected
                ? "<span class=\"badge affected\" data-status=\"affected\">AFFECTED</span>"
                : "<span class=\"badge \(worst.rawValue)\">\(worst.label)</span>"
            let affected =
                standing.isAffected
                ? " <span class=\"note\">affected by \(standing.affectedBy.map(escape).joined(separator: ", "))</span>"
                : ""
            html +=
                "<section class=\"layer\" id=\"layer-\(layer.rawValue)\"><h2>\(badge) "
                + "\(escape(layer.rawValue.capitalized))\(affected)</h2>\n<table><thead><tr><th>Status</th><th>Check</th><th>Summary</th>"
                + "<th>Latency</th><th>Recent</th></tr></thead><tbody>\n"
            for result in results {
                var note = ""
                if let cause = result.rootCause { note = " <span class=\"note\">symptom of \(escape(cause))</span>" }
                if result.role == .unreachableFromProbe {
                    note = " <span class=\"note\">unreachable from the probe</span>"
                }
                html +=
                    "<tr class=\"check\" data-key=\"\(escape(result.key))\" data-status=\"\(result.status.rawValue)\">"
                    + "<td><span class=\"badge \(result.status.rawValue)\">\(result.status.label)</span></td>"
                    + "<td>\(escape(result.key))</td><td>\(escape(result.summary))\(note)</td>"
                    + "<td class=\"num\">\(DecimalText.fixed(result.durationMs, places: 0)) ms</td>"
                    + "<td>\(sparkline(snapshot.history.values(result.key)))</td></tr>\n"
            }
            html += "</tbody></table></section>\n"
        }
        return html
    }

    /// A tiny inline SVG polyline of recent durations, scaled to their maximum.
    static func sparkline(_ values: [Double], width: Double = 120, height: Double = 24) -> String {
        guard values.count >= 2 else { return "" }
        let top = max(values.max() ?? 1, 0.001)
        let step = width / Double(values.count - 1)
        let points = values.enumerated().map { index, value in
            DecimalText.fixed(Double(index) * step, places: 1) + ","
                + DecimalText.fixed(height - 1 - (min(max(value, 0), top) / top) * (height - 2), places: 1)
        }.joined(separator: " ")
        return
            "<svg class=\"spark\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "role=\"img\" aria-label=\"recent latency, max \(DecimalText.fixed(top, places: 0)) ms\">"
            + "<polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\"\(points)\"/></svg>"
    }

    static func age(_ seconds: Double) -> String {
        let value = max(0, seconds)
        if value < 120 { return "\(Int(value)) s" }
        if value < 7200 { return "\(Int(value / 60)) min" }
        return "\(Int(value / 3600)) h"
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
        h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .4em}small{color:#666;font-weight:normal}
        .meta{color:#555;margin:.2em 0}table{border-collapse:collapse;width:100%;background:#fff}
        td,th{padding:.3em .5em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}.num{text-align:right;white-space:nowrap}
        .badge{display:inline-block;min-width:5.5em;text-align:center;border-radius:3px;padding:0 .3em;color:#fff;font-weight:600;font-size:.85em}
        .ok{background:#2e7d32}.warning{background:#ef8f00}.critical{background:#c62828}.unknown{background:#6d4c9f}.affected{background:#b26a00}
        .cause{background:#fff;border-left:4px solid #c62828;padding:.4em .8em;margin:.4em 0}.cause p{margin:.2em 0}
        .cause.warning{border-color:#ef8f00}.cause.unknown{border-color:#6d4c9f}.cause.ok{border-color:#2e7d32}
        .hint{color:#333}.evidence code{font-size:.85em;color:#555}.note{color:#777;font-size:.9em}.spark{color:#1565c0}
        footer{margin-top:2em;color:#777;font-size:.85em}
        """
}
