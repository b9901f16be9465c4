import ArgumentParser
import Foundation
import Notifiers
import ProbeCore
import Probes
import Runtime

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the configuration without probing anything; exit 0 when valid, 3 when not."
    )

    @OptionGroup var common: CommonOptions

    @Option(
        name: .long,
        help:
            "Alerts file (default: $CLEARML_PROBE_ALERTS or ./alerts/alerts.yaml; without one, the environment's destinations)."
    )
    var alerts: String?

    func run() async throws {
        let loaded = try CLIConfig.load(common.config)
        var lines = ["\(loaded.config.file): valid"]
        for check in loaded.checks {
            switch check.plan {
            case .ready:
                lines.append(
                    "  \(check.id.rawValue): \(check.settings.enabled ? "runs" : "disabled") (timeout \(Int(check.settings.timeout * 1000)) ms)"
                )
            case .notConfigured(let reason): lines.append("  \(check.id.rawValue): not run: \(reason)")
            }
        }
        lines += Self.describe(try AlertsConfigSource.load(explicit: alerts))
        print(lines.joined(separator: "\n"))
    }

    /// What the alerting configuration does, for people: destinations (addresses redacted), routes, templates and
    /// maintenance windows.
    static func describe(_ config: AlertsConfig) -> [String] {
        var lines = ["\(config.file ?? "alerting from the environment"): valid"]
        if config.destinations.isEmpty { lines.append("  no destination: nothing pages") }
        for destination in config.destinations {
            lines.append("  destination \(destination.name): \(destination.kind.rawValue) → \(destination.redactedURL)")
        }
        if config.routes.rules.isEmpty {
            lines.append(
                "  route: every incident → \(config.routes.defaultDestinations?.joined(separator: ", ") ?? "every destination")"
            )
        } else {
            for rule in config.routes.rules {
                lines.append(
                    "  route \(rule.name): \(rule.selector.summary) → \(rule.destinations.joined(separator: ", "))\(rule.continueMatching ? " (continue)" : "")"
                )
            }
            lines.append(
                "  route default → \(config.routes.defaultDestinations?.joined(separator: ", ") ?? "every destination")"
            )
        }
        for kind in config.templates.overriddenKinds {
            lines.append("  template \(kind.rawValue): \(config.templates.template(for: kind).source)")
        }
        for window in config.maintenance.windows {
            let when: String
            switch window.schedule {
            case .once(let start, let end):
                when = "\(UTCTimestamp.rfc3339(start)) to \(UTCTimestamp.rfc3339(end))"
            case .weekly(let zone, let ranges):
                when = "weekly, \(ranges.count) range\(ranges.count == 1 ? "" : "s") in \(zone.identifier)"
            }
            let open = window.isOpen(at: Date()) ? " (open now)" : ""
            lines.append("  maintenance \(window.name): \(window.selector.summary), \(when)\(open): \(window.reason)")
        }
        return lines
    }
}
