import Foundation

/// Resumes a continuation exactly once, from whichever side gets there first: the work finishing or its deadline.
/// Used where a wait must end at a deadline even though the awaited work runs on (a login, a check stuck in a C call).
public final class ResumeGate<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `continuation`, `pending` and `done` holds `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var done = false

    public init() {}

    /// Hands over the continuation to resume; resumes it at once when a value came first.
    public func install(_ continuation: CheckedContinuation<T, Never>) {
        lock.lock()
        if done, let pending {
            lock.unlock()
            continuation.resume(returning: pending)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    /// Resumes with `value` unless something already did. True when this call was the one that resumed.
    @discardableResult
    public func resume(_ value: T) -> Bool {
        lock.lock()
        guard !done else {
            lock.unlock()
            return false
        }
        done = true
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume(returning: value)
        } else {
            pending = value
            lock.unlock()
        }
        return true
    }
}
