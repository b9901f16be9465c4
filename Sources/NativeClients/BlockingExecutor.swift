import Dispatch

/// Runs blocking C calls off Swift's cooperative pool.
///
/// Each call gets a fresh serial queue: on Linux the global queues share the pool's threads,
/// so a hung C call there would starve every task. The closure must be bounded by a timeout inside the C library;
/// a blocked C call does not notice task cancellation.
public enum BlockingExecutor {
    public static func run<T: Sendable>(label: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "clearml-probe.\(label)").async {
                continuation.resume(returning: work())
            }
        }
    }

    /// Runs on a given serial queue: the owner of a long-lived handle passes its own queue so calls never overlap.
    public static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
