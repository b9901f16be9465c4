#if canImport(Glibc)
    import Glibc
#endif

/// How long the accept loop waits after `accept` fails.
///
/// Out of descriptors (EMFILE, ENFILE) or memory (ENOBUFS, ENOMEM) the listening socket stays readable, so retrying
/// at once spins a core at 100 % and starves everything else. A connection the peer aborted or a signal (ECONNABORTED,
/// EINTR, EAGAIN) is retried at once. Waits double from `initial` to `maximum` and reset on the next success.
public struct AcceptBackoff: Sendable, Equatable {
    public var initial: Double
    public var maximum: Double
    public private(set) var current: Double = 0

    public init(initial: Double = 0.01, maximum: Double = 1) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Seconds to wait before the next `accept` after it failed with `code`.
    public mutating func failed(errno code: Int32) -> Double {
        switch code {
        case EINTR, EAGAIN, ECONNABORTED, EPROTO, EPERM:
            return 0
        default:
            current = current == 0 ? initial : min(maximum, current * 2)
            return current
        }
    }

    public mutating func succeeded() { current = 0 }
}
