import Logging
import NativeClients
import ServiceLifecycle

/// Gives back the file pages start-up mapped and the sidecar no longer uses (`CleanFilePages`): once after every
/// check has run (`first`), then every `every`, so that pages a rare path mapped (an alert, the status page) do not
/// stay counted for the life of the process. What the sidecar keeps using is mapped again at once from the page
/// cache (from disk only if memory pressure evicted it meanwhile); no data can change. The page cache itself stays
/// charged to the container's memory cgroup, as before: the release lowers RSS, not the cgroup's usage.
public struct PageRelease<C: Clock>: ServiceLifecycle.Service where C.Duration == Duration {
    let first: Duration
    let every: Duration
    let clock: C
    let logger: Logger

    public init(
        first: Duration = .seconds(90), every: Duration = .seconds(600), clock: C,
        logger: Logger = Logger(label: "clearml-probe.pages")
    ) {
        self.first = first
        self.every = every
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await clock.sleep(for: first)
                var toldRefused = false
                while true {
                    let release = await BlockingExecutor.run(label: "pages") { CleanFilePages.release() }
                    logger.debug(
                        "released clean file pages",
                        metadata: [
                            "probe.mappings": "\(release.mappings)", "probe.released_kb": "\(release.releasedKB)",
                        ])
                    if !release.refused.isEmpty, !toldRefused {
                        toldRefused = true  // the same mappings every time: said once
                        logger.notice(
                            "the kernel refused to release the pages of some mappings; they stay resident",
                            metadata: ["probe.files": "\(Set(release.refused).sorted().joined(separator: ", "))"])
                    }
                    try await clock.sleep(for: every)
                }
            }
        } catch {}
    }
}
