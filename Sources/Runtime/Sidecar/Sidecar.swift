import Foundation
import Logging
import NativeClients
import ProbeCore
import Probes
import ServiceLifecycle

/// `clearml-probe serve` put together: the services of the sidecar and the order they stop in.
///
/// ServiceGroup shuts services down in reverse order, each after the one before it has returned. So the watchdog
/// stops first (shutdown must not look like a wedge), then the scheduler (in-flight runs finish, their results are
/// merged), then the dead man's switches and the HTTP endpoint, then the sink delivery drains into the alerting,
/// the alerting's delivery loop stops (saving its outbox), and last the probe state is saved.
public struct Sidecar: Sendable {
    public let board: StatusBoard
    public let liveness: Liveness<ContinuousClock>
    public let state: ProbeState
    public let server: HTTPServer
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]
    public let stateDirectory: String?

    public init(
        loaded: LoadedConfig, settings: SidecarSettings, selection: Selection = .all, readOnly: Bool = false,
        alerting: AlertPipeline? = nil, sinks extraSinks: [any ReportSink] = [],
        policy: CadencePolicy = CadencePolicy(), logger: Logger,
        onWedged: @escaping @Sendable (String) -> Void
    ) throws {
        let clock = ContinuousClock()
        let sinks: [any ReportSink] = (alerting.map { [$0] } ?? []) + extraSinks
        let alerts: (any AlertStatusProvider)? = alerting
        let http = HTTPClient()
        let inFlight = InFlight()
        let engine = Engine(loaded: loaded, http: http, inFlight: inFlight)
        let (planned, notChecked) = engine.plan(selection: selection, readOnly: readOnly)
        let state = settings.stateDirectory.map { ProbeState.load(directory: $0) } ?? ProbeState()
        let entries = planned.map {
            Scheduler<ContinuousClock>.Entry(
                id: $0.0.id, interval: $0.0.settings.interval, timeout: $0.0.settings.timeout)
        }
        let intervals = entries.map(\.interval)
        let timeouts = entries.map(\.timeout)
        let instance = loaded.config.instance

        let board = StatusBoard(StatusSnapshot(instance: instance))
        let liveness = Liveness<ContinuousClock>()
        let events = CycleEvents()
        let queue = sinks.isEmpty ? nil : ReportQueue()
        let earlyRuns = EarlyRuns()
        let assembler = ReportAssembler(
            entries: entries.map { ($0.id, $0.interval) }, notChecked: notChecked, board: board,
            inFlight: inFlight, alerts: alerts, cycles: events, reports: queue, instance: instance,
            logger: logger.child("report"), earlyRuns: earlyRuns)
        let silences = settings.stateDirectory.map { SilenceAPI(store: SilenceStore(directory: $0)) }
        let silenceGuard = SilenceGuard(
            listenHost: settings.listenHost,
            extraHosts: SilenceGuard.hosts(environment: ProcessInfo.processInfo.environment))
        let server = try HTTPServer(host: settings.listenHost, port: settings.listenPort) {
            SidecarRoutes(
                board: board, health: liveness, auth: settings.auth, silences: silences, silenceGuard: silenceGuard
            ).handle($0)
        }

        var services: [any ServiceLifecycle.Service] = []
        if let directory = settings.stateDirectory {
            services.append(StateSaver(state: state, directory: directory, clock: clock, logger: logger.child("state")))
        } else {
            logger.notice(
                "no state directory (CLEARML_PROBE_STATE_DIR): counters judged by their change restart from scratch after a restart"
            )
        }
        if let alerting { services.append(AlertDelivery(pipeline: alerting)) }
        if let queue { services.append(SinkDelivery(queue: queue, sinks: sinks)) }
        services.append(HTTPService(server: server, logger: logger.child("http")))
        services.append(PageRelease(clock: clock, logger: logger.child("pages")))
        if let url = settings.heartbeatURL {
            services.append(
                HeartbeatPinger(
                    url: url, method: settings.heartbeatMethod, events: events, instance: instance,
                    http: http, logger: logger.child("heartbeat")))
        }
        if let url = settings.watchdogAlertmanagerURL {
            services.append(
                AlertmanagerWatchdog(
                    url: url, validity: AlertmanagerWatchdog.validity(intervals: intervals, timeouts: timeouts),
                    events: events, instance: instance, http: http, logger: logger.child("watchdog-alert")))
        }
        services.append(
            Scheduler(
                entries: entries,
                runner: EngineCheckRunner(engine: engine, planned: planned, state: state, readOnly: readOnly),
                observer: assembler, clock: clock, policy: policy, maxConcurrency: settings.maxConcurrency,
                liveness: liveness, logger: logger.child("scheduler"), overrunGrace: engine.overrunGrace,
                earlyRuns: earlyRuns))
        services.append(
            LivenessWatchdog(
                clock: clock, liveness: liveness,
                tolerance: LivenessWatchdog<ContinuousClock>.tolerance(intervals: intervals, timeouts: timeouts),
                logger: logger.child("watchdog"), onWedged: onWedged))

        self.board = board
        self.liveness = liveness
        self.state = state
        self.server = server
        self.stateDirectory = settings.stateDirectory
        self.services = services.map { .init(service: $0) }
    }

    /// The group that runs until SIGTERM or SIGINT. Graceful shutdown is bounded (Docker's default stop timeout is
    /// 10 s): after `shutdownBound` it turns into cancellation.
    public func serviceGroup(logger: Logger, shutdownBound: Duration = .seconds(8)) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownBound
        configuration.maximumCancellationDuration = .seconds(2)
        return ServiceGroup(configuration: configuration)
    }
}

extension Logger {
    /// The same handler and level under a sub-label (`clearml-probe.scheduler`).
    func child(_ name: String) -> Logger {
        var logger = Logger(label: "\(label).\(name)")
        logger.logLevel = logLevel
        return logger
    }
}
