import Foundation

/// A value behind a lock, for state that a plain thread (the HTTP server's) and async code both read.
///
/// `@unchecked Sendable`: every access to `value` holds `lock`, and `T` is Sendable, so no reference escapes unlocked.
public final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T

    public init(_ value: T) { self.value = value }

    public func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public var current: T { withLock { $0 } }
}
