import ArgumentParser
import Foundation
import Notifiers
import ProbeCore
import Runtime

/// `clearml-probe alerts …`: what the alerting state directory holds.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alerting state: dead letters (messages a destination refused for good).",
        subcommands: [AlertsDeadLettersCommand.self, AlertsFlushCommand.self]
    )
}

struct StateDirectoryOption: ParsableArguments {
    @Option(name: .long, help: "The state directory (default: $CLEARML_PROBE_STATE_DIR).")
    var stateDir: String?

    func resolve() throws -> String {
        if let stateDir, !stateDir.isEmpty { return stateDir }
        if let fromEnv = ProcessInfo.processInfo.environment["CLEARML_PROBE_STATE_DIR"], !fromEnv.isEmpty {
            return fromEnv
        }
        FileHandle.standardError.write(
            Data("clearml-probe: no state directory (use --state-dir or set CLEARML_PROBE_STATE_DIR)\n".utf8))
        throw ExitCode(3)
    }
}

struct AlertsDeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List the messages that could not be delivered, with the reason; exit 1 when there are any."
    )

    @OptionGroup var state: StateDirectoryOption

    @Option(name: .long, help: "text or json.")
    var format: RunCommand.Format = .text

    func run() async throws {
        let directory = try state.resolve()
        let snapshot: AlertStore.Snapshot
        do {
            snapshot = try AlertStore(directory: directory).load()
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error)\n".utf8))
            throw ExitCode(3)
        }
        let letters = snapshot.outbox.deadLetters
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(letters))
            print("")
        case .text:
            if letters.isEmpty { print("No dead letters in \(directory).") }
            for letter in letters {
                print(
                    "\(MessageText.time(letter.deadAt))  \(letter.destination)  \(letter.message.event.rawValue)  \(letter.message.title)"
                )
                print(
                    "    \(letter.reason) (after \(letter.attempts) attempt\(letter.attempts == 1 ? "" : "s"); message \(letter.message.messageID), incident \(letter.message.incidentID))"
                )
            }
            if snapshot.outbox.deadLettersEvicted > 0 {
                print("(\(snapshot.outbox.deadLettersEvicted) older dead letters were evicted by the cap)")
            }
        }
        throw ExitCode(letters.isEmpty ? 0 : 1)
    }
}

/// Delivers what the outbox holds, then exits. Hidden: the sidecar delivers on its own; this is for tests (a real
/// process killed mid-delivery) and for an operator draining a stopped sidecar's outbox.
struct AlertsFlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Deliver the queued messages of a stopped sidecar's state directory, then exit.",
        shouldDisplay: false
    )

    @OptionGroup var state: StateDirectoryOption
    @OptionGroup var options: AlertOptions

    func run() async throws {
        let directory = try state.resolve()
        let config = try options.loadAlerts()
        let pipeline: AlertPipeline
        do {
            pipeline = try AlertPipeline(config: config, instance: options.instance(), stateDirectory: directory)
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error)\n".utf8))
            throw ExitCode(3)
        }
        let left = await pipeline.flush()
        print(left == 0 ? "outbox empty" : "\(left) message(s) still queued (retrying later)")
        throw ExitCode(left == 0 ? 0 : 1)
    }
}
