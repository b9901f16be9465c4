import Foundation
import Logging
import Probes
import ServiceLifecycle

/// Saves the sidecar's one `ProbeState` (counter samples) to the state directory periodically and once more at
/// shutdown, after the scheduler has stopped. Writes are atomic, so a kill at any moment leaves the previous file.
public struct StateSaver<C: Clock>: ServiceLifecycle.Service where C.Duration == Duration {
    let state: ProbeState
    let directory: String
    let every: Duration
    let clock: C
    let logger: Logger

    public init(
        state: ProbeState, directory: String, every: Duration = .seconds(60), clock: C,
        logger: Logger = Logger(label: "clearml-probe.state")
    ) {
        self.state = state
        self.directory = directory
        self.every = every
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await clock.sleep(for: every)
                    await save()
                }
            }
        } catch {}
        await save()
        logger.debug("state saved at shutdown", metadata: ["probe.state_dir": "\(directory)"])
    }

    func save() async {
        do {
            try await state.save(directory: directory)
        } catch {
            logger.error(
                "cannot save state",
                metadata: ["probe.state_dir": "\(directory)", "probe.error": "\(error.localizedDescription)"])
        }
    }
}
