import ArgumentParser
import Foundation
import NativeClients

/// The entry point: exit codes follow the monitoring-plugin convention, so a usage error exits 3 (UNKNOWN), not the
/// parser's 64.
@main
enum Entry {
    static func main() async {
        MallocArenas.limit()
        do {
            var command = try ClearMLProbe.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = ClearMLProbe.exitCode(for: error)
            let message = ClearMLProbe.fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data(("clearml-probe: " + message + "\n").utf8))
            Foundation.exit(3)
        }
    }
}

struct ClearMLProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearml-probe",
        abstract: "Deep health checks for a self-hosted ClearML server, with root causes and alerts.",
        discussion: "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also bad usage and bad config).",
        version: "0.1.0",
        subcommands: [
            RunCommand.self, ValidateCommand.self, ServeCommand.self, HealthcheckCommand.self, NotifyCommand.self,
            AlertsCommand.self, SilenceCommand.self,
        ]
    )
}

/// Options every probing command shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Check config file (default: $CLEARML_PROBE_CONFIG, ./probes/clearml.yaml, or the built-in one).")
    var config: String?
}
