import Foundation
import NativeClients
import ProbeCore
import Probes

/// Which checks a run covers: check ids, services (`mongo`: every MongoDB check) and layer tokens from `--only`;
/// empty means all.
public struct Selection: Sendable, Equatable {
    public var ids: Set<CheckID>
    public var layers: Set<Layer>

    public init(ids: Set<CheckID> = [], layers: Set<Layer> = []) {
        self.ids = ids
        self.layers = layers
    }

    public static let all = Selection()

    /// Parses `--only` values; an unknown token is an error listing what is allowed.
    public init(tokens: [String]) throws(SelectionError) {
        var ids: Set<CheckID> = []
        var layers: Set<Layer> = []
        for token in tokens.flatMap({ $0.split(separator: ",").map(String.init) }) {
            if let id = CheckID(rawValue: token) {
                ids.insert(id)
            } else if let service = Service(rawValue: token) {
                ids.formUnion(CheckID.allCases.filter { $0.service == service })
            } else if let layer = Layer(rawValue: token) {
                layers.insert(layer)
            } else {
                throw SelectionError(token: token)
            }
        }
        self.init(ids: ids, layers: layers)
    }

    public func includes(_ id: CheckID) -> Bool {
        (ids.isEmpty && layers.isEmpty) || ids.contains(id) || layers.contains(id.layer)
    }
}

public struct SelectionError: Error, CustomStringConvertible {
    public var token: String
    public var description: String {
        "'\(token)' is not a check id, a service or a layer (layers: \(Layer.allCases.map(\.rawValue).joined(separator: ", ")); "
            + "services: \(Service.allCases.map(\.rawValue).joined(separator: ", ")); "
            + "checks: \(CheckID.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

/// One pass: every selected check runs concurrently under its own deadline; the report is analysed for root causes.
///
/// A check that has not returned by its deadline plus `overrunGrace` gets a timeout result and the pass moves on;
/// its task (stuck in a C call bounded by the library's own timeout) is counted in `InFlight` until it ends.
public struct Engine: Sendable {
    public var loaded: LoadedConfig
    public var http: HTTPClient
    public var inFlight: InFlight
    /// How long past its deadline a check may take before the engine stops waiting for it.
    public var overrunGrace: Double

    public init(
        loaded: LoadedConfig, http: HTTPClient = HTTPClient(), inFlight: InFlight = InFlight(),
        overrunGrace: Double = 0.25
    ) {
        self.loaded = loaded
        self.http = http
        self.inFlight = inFlight
        self.overrunGrace = overrunGrace
    }

    /// What a pass would run and what it would not, and why.
    public func plan(selection: Selection, readOnly: Bool) -> (
        run: [(ConfiguredCheck, any Check)], notChecked: [NotChecked]
    ) {
        var run: [(ConfiguredCheck, any Check)] = []
        var notChecked: [NotChecked] = []
        for configured in loaded.checks {
            guard selection.includes(configured.id) else { continue }
            if !configured.settings.enabled {
                notChecked.append(NotChecked(id: configured.id, reason: "disabled in the config"))
                continue
            }
            if readOnly && configured.id.writes {
                notChecked.append(NotChecked(id: configured.id, reason: "skipped: --read-only (this check writes)"))
                continue
            }
            switch configured.plan {
            case .ready(let check): run.append((configured, check))
            case .notConfigured(let reason): notChecked.append(NotChecked(id: configured.id, reason: reason))
            }
        }
        return (run, notChecked)
    }

    public func run(selection: Selection = .all, readOnly: Bool = false, state: ProbeState = ProbeState()) async
        -> Report
    {
        let startedAt = Date()
        let start = ContinuousClock.now
        var (planned, notChecked) = plan(selection: selection, readOnly: readOnly)
        var runnable: [(ConfiguredCheck, any Check)] = []
        for entry in planned {
            if await inFlight.begin(entry.0.id) {
                runnable.append(entry)
            } else {
                notChecked.append(
                    NotChecked(
                        id: entry.0.id, reason: "skipped: its previous run is still inside a C call past its deadline"))
            }
        }
        planned = runnable
        let results = await withTaskGroup(of: (Int, [CheckResult]).self) { group in
            for (index, (configured, check)) in planned.enumerated() {
                let context = context(for: configured, readOnly: readOnly, state: state)
                group.addTask {
                    (index, await guarded(check, context: context))
                }
            }
            var collected: [(Int, [CheckResult])] = []
            for await item in group { collected.append(item) }
            return collected.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        let elapsed = start.duration(to: .now)
        return Report(
            startedAt: startedAt, durationMs: elapsed.milliseconds, results: Self.uniqueKeys(results),
            notChecked: notChecked)
    }

    /// Runs one check alone under its deadline (the sidecar's scheduler does this per check); nil when its previous
    /// run is still inside a C call past its deadline, so a stuck run is never overlapped.
    public func runOne(
        _ configured: ConfiguredCheck, _ check: any Check, readOnly: Bool = false,
        state: ProbeState
    ) async -> [CheckResult]? {
        guard await inFlight.begin(configured.id) else { return nil }
        let results = await guarded(check, context: context(for: configured, readOnly: readOnly, state: state))
        return Self.uniqueKeys(results)
    }

    func context(for configured: ConfiguredCheck, readOnly: Bool, state: ProbeState) -> CheckContext {
        CheckContext(
            id: configured.id, config: loaded.config, settings: configured.settings,
            deadline: .now + .seconds(configured.settings.timeout), http: http, state: state, readOnly: readOnly)
    }

    /// Runs a check, but returns at its deadline plus the grace even if the check does not.
    func guarded(_ check: any Check, context: CheckContext) async -> [CheckResult] {
        let id = context.id
        let inFlight = self.inFlight
        let gate = ResumeGate<[CheckResult]?>()
        let limit = context.deadline + .seconds(overrunGrace)
        let started = Date()
        let outcome: [CheckResult]? = await withCheckedContinuation { continuation in
            gate.install(continuation)
            let runner = Task {
                let results = await check.run(context)
                await inFlight.end(id)
                gate.resume(results)
            }
            Task {
                try? await Task.sleep(until: limit, clock: .continuous)
                if gate.resume(nil) { runner.cancel() }
            }
        }
        if let outcome { return outcome }
        await inFlight.markOverrun(id)
        return [
            CheckResult(
                id: id, status: .critical,
                summary: "did not finish within its \(Durations.format(seconds: context.settings.timeout)) deadline",
                hint:
                    "A peer accepts connections but never answers; the check's own timeouts should have fired — report this.",
                startedAt: started, durationMs: (context.settings.timeout + overrunGrace) * 1000,
                dependsOn: id.service.dependencies.map(Dependency.service)
                    + (id.livenessDependency(noAnswer: true) ?? []))
        ]
    }

    public static func uniqueKeys(_ results: [CheckResult]) -> [CheckResult] {
        var seen: [String: Int] = [:]
        return results.map { result in
            var result = result
            let count = seen[result.key, default: 0]
            seen[result.key] = count + 1
            if count > 0 { result.key += "#\(count + 1)" }
            return result
        }
    }
}

/// Checks whose run has not returned. A check still inside a C call past its deadline is never started again
/// until that call ends, and overruns are counted for `/metrics`.
public actor InFlight {
    private var running: Set<CheckID> = []
    public private(set) var overruns: [CheckID: Int] = [:]

    public init() {}

    public func begin(_ id: CheckID) -> Bool { running.insert(id).inserted }

    public func end(_ id: CheckID) { running.remove(id) }

    public func markOverrun(_ id: CheckID) { overruns[id, default: 0] += 1 }

    public func isRunning(_ id: CheckID) -> Bool { running.contains(id) }
}
