/// At most `limit` holders at once; waiters are served first come, first served, and a cancelled waiter leaves the
/// queue (so shutdown never waits behind a slot).
public actor ConcurrencyLimit {
    private let limit: Int
    private var holders = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID = 0

    public init(_ limit: Int) { self.limit = max(1, limit) }

    public func acquire() async throws {
        try Task.checkCancellation()
        if holders < limit {
            holders += 1
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Hands the slot to the first waiter, or frees it.
    public func release() {
        if waiters.isEmpty {
            holders = max(0, holders - 1)
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    public var inUse: Int { holders }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    /// Runs `body` holding a slot.
    public func withSlot<T: Sendable>(_ body: @Sendable () async -> T) async throws -> T {
        try await acquire()
        let value = await body()
        release()
        return value
    }
}
