import CMalloc
import Foundation

/// How many malloc arenas glibc may create.
///
/// glibc gives a thread that finds the arenas busy an arena of its own, up to eight per core, and each arena keeps
/// the memory freed into it. The sidecar's allocations come from a handful of threads (the cooperative pool, the
/// queues of the blocking C calls), so more arenas only hold more freed memory: on the `scripts/bench-serve`
/// workload two arenas keep about 0.9 MB less resident than glibc's default and the RSS stops creeping
/// (docs/resident-memory.md). `MALLOC_ARENA_MAX` in the environment wins: glibc has applied it before `main`.
public enum MallocArenas {
    public static let sidecarLimit: Int32 = 2

    /// Caps the arenas at `limit` unless the environment set `MALLOC_ARENA_MAX`; true when this call set it.
    @discardableResult
    public static func limit(to limit: Int32 = sidecarLimit) -> Bool {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return false }
        return mallopt(M_ARENA_MAX, limit) == 1
    }
}
