import ProbeCore
import Probes

/// Runs one check once for the scheduler.
public protocol CheckRunner: Sendable {
    /// The check's results, or nil when it was skipped because its previous run is still inside a C call.
    func run(_ id: CheckID) async -> [CheckResult]?
}

/// The real runner: the engine's guarded single-check run, with the sidecar's one `ProbeState`.
public struct EngineCheckRunner: CheckRunner {
    public let engine: Engine
    public let state: ProbeState
    public let readOnly: Bool
    private let checks: [CheckID: (ConfiguredCheck, any Check)]

    public init(engine: Engine, planned: [(ConfiguredCheck, any Check)], state: ProbeState, readOnly: Bool) {
        self.engine = engine
        self.state = state
        self.readOnly = readOnly
        self.checks = Dictionary(planned.map { ($0.0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func run(_ id: CheckID) async -> [CheckResult]? {
        guard let (configured, check) = checks[id] else { return [] }
        return await engine.runOne(configured, check, readOnly: readOnly, state: state)
    }
}
