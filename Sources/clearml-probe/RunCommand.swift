import ArgumentParser
import Foundation
import ProbeCore
import Probes
import Runtime

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every check once, print the report (root causes first) and exit 0/1/2/3."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "A check id or a layer (ingress, application, data, execution); repeatable.")
    var only: [String] = []

    @Option(name: .long, help: "text or json.")
    var format: Format = .text

    @Flag(name: .long, help: "Skip every check that writes (fileserver upload, Mongo and Redis writes).")
    var readOnly = false

    @Option(
        name: .long,
        help:
            "Keep counter samples here between runs (default: $CLEARML_PROBE_STATE_DIR or the config's probe.state_dir)."
    )
    var stateDir: String?

    func run() async throws {
        let selection: Selection
        do {
            selection = try Selection(tokens: only)
        } catch {
            throw ValidationError("--only: \(error.description)")
        }
        let loaded = try CLIConfig.load(common.config)
        let stateDirectory = stateDir ?? loaded.config.stateDirectory
        let state = stateDirectory.map { ProbeState.load(directory: $0) } ?? ProbeState()
        let report = await Engine(loaded: loaded).run(selection: selection, readOnly: readOnly, state: state)
        if let stateDirectory {
            do {
                try await state.save(directory: stateDirectory)
            } catch {
                FileHandle.standardError.write(
                    Data("clearml-probe: cannot save state in \(stateDirectory): \(error.localizedDescription)\n".utf8))
            }
        }
        switch format {
        case .json:
            FileHandle.standardOutput.write(ReportJSON.encode(report))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            FileHandle.standardOutput.write(Data(TextReport(colour: colour).render(report).utf8))
        }
        throw ExitCode(report.status.exitCode)
    }
}

/// Loads the check config for a command, turning every failure into one located message and exit 3.
enum CLIConfig {
    static func load(_ explicit: String?) throws -> LoadedConfig {
        do {
            return try ConfigSource.load(explicit: explicit)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("clearml-probe: \(error.description)\n".utf8))
        } catch let error as ConfigSource.LoadError {
            FileHandle.standardError.write(Data("clearml-probe: \(error.description)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error)\n".utf8))
        }
        throw ExitCode(3)
    }
}
