import ArgumentParser
import Foundation
import Notifiers
import ProbeCore
import Runtime

/// `clearml-probe notify test`: one test message to each destination, and what each answered.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Alert destinations: send a test message.",
        subcommands: [NotifyTestCommand.self]
    )
}

/// Options of the alerting commands.
struct AlertOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Alerts file (default: $CLEARML_PROBE_ALERTS or ./alerts/alerts.yaml; without one, the environment's destinations)."
    )
    var alerts: String?

    @Option(name: .long, help: "Check config file, for the probe's instance name (default: as for run).")
    var config: String?

    func loadAlerts() throws -> AlertsConfig {
        do {
            return try AlertsConfigSource.load(explicit: alerts)
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }

    /// The instance name that tells several stacks apart in messages.
    func instance() -> String {
        (try? ConfigSource.load(explicit: config))?.config.instance ?? "clearml-probe"
    }
}

struct NotifyTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send one test message to each destination; exit 0 only when every one took it."
    )

    @OptionGroup var options: AlertOptions

    func run() async throws {
        let config = try options.loadAlerts()
        guard !config.destinations.isEmpty else {
            FileHandle.standardError.write(
                Data(
                    ("clearml-probe: no alert destination is configured (set CLEARML_PROBE_ALERT_SLACK_URL, "
                        + "CLEARML_PROBE_ALERT_WEBHOOK_URL, … or add destinations to \(config.file ?? AlertsConfigSource.defaultPath))\n")
                        .utf8))
            throw ExitCode(3)
        }
        let pipeline = try AlertPipeline(
            config: config, instance: options.instance(), stateDirectory: nil, log: { _ in })
        let results = await pipeline.sendTest(now: Date())
        var allDelivered = true
        for result in results {
            let verdict: String
            switch result.outcome {
            case .delivered: verdict = "delivered"
            case .retry(let after, let reason):
                verdict =
                    "retryable: \(reason)" + (after.map { " (retry after \(Durations.format(seconds: $0)))" } ?? "")
                allDelivered = false
            case .permanent(let reason):
                verdict = "permanent: \(reason)"
                allDelivered = false
            }
            print(
                "\(result.destination) (\(result.kind.rawValue), \(result.url)): \(Redact.text(verdict, secrets: config.secrets))"
            )
        }
        throw ExitCode(allDelivered ? 0 : 2)
    }
}
