import ArgumentParser
import Foundation
import Logging
import NativeClients
import ProbeCore
import Runtime

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sidecar: every check on its schedule, /metrics, /healthz, /status and a status page.",
        discussion: """
            Stops gracefully on SIGTERM or SIGINT (in-flight checks finish, state is saved) and exits 0. Exits non-zero \
            when the scheduler is wedged, so the container's restart policy acts.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "A check id or a layer (ingress, application, data, execution); repeatable.")
    var only: [String] = []

    @Flag(name: .long, help: "Skip every check that writes (fileserver upload, Mongo and Redis writes).")
    var readOnly = false

    @Option(
        name: .long,
        help:
            "HTTP address HOST:PORT (default: $CLEARML_PROBE_LISTEN, else 0.0.0.0:9469 in a container, 127.0.0.1:9469 elsewhere)."
    )
    var listen: String?

    @Option(name: .long, help: "State directory (default: $CLEARML_PROBE_STATE_DIR or the config's probe.state_dir).")
    var stateDir: String?

    @Option(
        name: .long,
        help:
            "Alerts file (default: $CLEARML_PROBE_ALERTS or ./alerts/alerts.yaml; without one, the environment's destinations)."
    )
    var alerts: String?

    func run() async throws {
        CleanFilePages.recordStartupFiles()  // before anything can dlopen a library (PageRelease)
        LogSetup.bootstrap()
        let logger = Logger(label: "clearml-probe")
        let selection: Selection
        do {
            selection = try Selection(tokens: only)
        } catch {
            throw ValidationError("--only: \(error.description)")
        }
        let loaded = try CLIConfig.load(common.config)
        let settings: SidecarSettings
        do {
            settings = try SidecarSettings.resolve(
                listen: listen, stateDirectory: stateDir,
                configStateDirectory: loaded.config.stateDirectory)
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error.description)\n".utf8))
            throw ExitCode(3)
        }
        let alerting: AlertPipeline
        do {
            let config = try AlertsConfigSource.load(explicit: alerts)
            let alertLogger = Logger(label: "clearml-probe.alerting")
            alerting = try AlertPipeline(
                config: config, instance: loaded.config.instance, stateDirectory: settings.stateDirectory,
                log: { line in alertLogger.notice("\(line)") })
        } catch {
            FileHandle.standardError.write(Data("clearml-probe: \(error)\n".utf8))
            throw ExitCode(3)
        }
        let sidecar: Sidecar
        do {
            sidecar = try Sidecar(
                loaded: loaded, settings: settings, selection: selection, readOnly: readOnly,
                alerting: alerting, logger: logger
            ) { _ in
                // The scheduler is wedged: leave now, so the restart policy acts. The state was saved periodically.
                Foundation.exit(70)
            }
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        do {
            try await sidecar.serviceGroup(logger: logger).run()
        } catch {
            logger.critical("stopped on an error: \(error)")
            throw ExitCode(1)
        }
        logger.info("stopped")
    }
}

/// swift-log to stderr, once, from the command that runs long; libraries only take a `Logger`.
enum LogSetup {
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["CLEARML_PROBE_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
