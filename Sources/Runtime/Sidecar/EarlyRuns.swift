import Foundation
import ProbeCore

/// Requests to run a check now instead of at its next slot, so that alerting judges a failure on evidence taken
/// after it began: when a check turns bad, the checks it depends on; when a root cause recovers, its symptoms.
///
/// A request names the time its sample must follow: a run that started later already answers it. The scheduler
/// bounds what it does with them (at most one early run per check per interval, inside the concurrency limit, never
/// overlapping the check's own runs).
public final class EarlyRuns: @unchecked Sendable {
    // @unchecked: every access to `wanted` and `waiters` holds `lock`.
    private let lock = NSLock()
    private var wanted: [CheckID: Date] = [:]
    private var waiters: [CheckID: CheckedContinuation<Void, Never>] = [:]
    /// Requests made so far, for `/metrics` and tests.
    public private(set) var requested = 0

    public init() {}

    /// Asks for a sample of each check started after `date`.
    public func request(_ ids: some Sequence<CheckID>, after date: Date) {
        var wake: [CheckedContinuation<Void, Never>] = []
        lock.lock()
        for id in ids {
            wanted[id] = max(wanted[id] ?? date, date)
            requested += 1
            if let waiter = waiters.removeValue(forKey: id) { wake.append(waiter) }
        }
        lock.unlock()
        for waiter in wake { waiter.resume() }
    }

    /// Takes the request for `id`: true when it wants a sample newer than a run started at `lastStart`.
    func take(_ id: CheckID, lastStart: Date?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let date = wanted.removeValue(forKey: id) else { return false }
        return lastStart.map { $0 < date } ?? true
    }

    func isPending(_ id: CheckID) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return wanted[id] != nil
    }

    /// Returns when a request for `id` is pending, or the task is cancelled.
    func wait(_ id: CheckID) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if wanted[id] != nil || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                let previous = waiters.updateValue(continuation, forKey: id)
                lock.unlock()
                previous?.resume()
            }
        } onCancel: {
            lock.lock()
            let waiter = waiters.removeValue(forKey: id)
            lock.unlock()
            waiter?.resume()
        }
    }
}
