import ArgumentParser
import Foundation
import Probes
import Runtime

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the configuration without probing anything; exit 0 when valid, 3 when not."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let loaded = try CLIConfig.load(common.config)
        var lines = ["\(loaded.config.file): valid"]
        for check in loaded.checks {
            switch check.plan {
            case .ready: lines.append("  \(check.id.rawValue): \(check.settings.enabled ? "runs" : "disabled") (timeout \(Int(check.settings.timeout * 1000)) ms)")
            case .notConfigured(let reason): lines.append("  \(check.id.rawValue): not run: \(reason)")
            }
        }
        print(lines.joined(separator: "\n"))
    }
}
