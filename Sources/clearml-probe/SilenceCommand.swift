import ArgumentParser
import Foundation
import ProbeCore
import Runtime

/// `clearml-probe silence add|list|remove`: through the running sidecar when there is one, else the state directory.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Quiet alerts for a check, a service or a layer for a while (they still run and show).",
        discussion: """
            Through the running sidecar (--url, or CLEARML_PROBE_LISTEN when it answers) so two processes never write its \
            state at once; otherwise silences.json in the state directory (--state-dir or CLEARML_PROBE_STATE_DIR).
            """,
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Where: ParsableArguments {
        @Option(
            name: .long,
            help: "The sidecar's address (http://host:port); default: CLEARML_PROBE_LISTEN when it answers.")
        var url: String?
        @Option(
            name: .customLong("state-dir"),
            help: "The state directory when no sidecar runs (default: $CLEARML_PROBE_STATE_DIR).")
        var stateDirectory: String?
        @Option(name: .long, help: "text or json.")
        var format: String = "text"

        func target() async throws -> SilenceClient.Target {
            guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
            return try await SilenceClient.resolve(
                url: url, stateDirectory: stateDirectory, environment: ProcessInfo.processInfo.environment)
        }

        func print(_ silences: [SilenceAPI.Shown], title: String?) throws {
            if format == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                Swift.print(String(decoding: try encoder.encode(silences), as: UTF8.self))
                return
            }
            if let title { Swift.print(title) }
            let now = Date()
            for silence in silences { Swift.print(SilenceClient.describe(silence, now: now)) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a silence.")
        @Option(
            name: .long,
            help: "A check (redis.write, ingress.routes/api, redis.*), a service (redis) or a layer (data).")
        var match: String
        @Option(name: .customLong("for"), help: "How long, e.g. 30m, 2h (at most 30d).")
        var duration: String
        @Option(name: .long, help: "Why, for the people who see it.")
        var reason: String
        @Option(name: .long, help: "Who adds it (default: $USER).")
        var by: String?
        @OptionGroup var place: Where

        func run() async throws {
            let target = try await place.target()
            let silence = try await SilenceClient.add(
                target, match: match, duration: duration, reason: reason,
                createdBy: by ?? ProcessInfo.processInfo.environment["USER"])
            try place.print([silence], title: place.format == "text" ? "silenced (\(target.description)):" : nil)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences (active and recently expired).")
        @OptionGroup var place: Where

        func run() async throws {
            let target = try await place.target()
            let silences = try await SilenceClient.list(target)
            try place.print(
                silences,
                title: place.format == "text"
                    ? (silences.isEmpty ? "no silences (\(target.description))" : "silences (\(target.description)):")
                    : nil)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a silence by id (or a unique id prefix).")
        @Argument(help: "The silence id, as `silence list` shows it.")
        var id: String
        @OptionGroup var place: Where

        func run() async throws {
            let target = try await place.target()
            let removed = try await SilenceClient.remove(target, id: id)
            try place.print([removed], title: place.format == "text" ? "removed (\(target.description)):" : nil)
        }
    }
}
