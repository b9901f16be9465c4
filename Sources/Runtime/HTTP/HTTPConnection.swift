import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One accepted, non-blocking socket and the monotonic deadline its reads and writes share.
struct Connection {
    let fd: Int32
    let deadline: ContinuousClock.Instant

    enum ReadOutcome { case data, closed, timedOut }

    /// Milliseconds left, for `poll` (0 when the deadline has passed).
    var remainingMilliseconds: Int32 { Self.milliseconds(until: deadline) }

    /// Whole milliseconds from now to `instant`, rounded up; 0 once it has passed.
    static func milliseconds(until instant: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: instant)
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }

    /// Waits for `events` until the deadline; false when it passed or the socket failed.
    func wait(for events: Int32) -> Bool {
        while true {
            let left = remainingMilliseconds
            guard left > 0 else { return false }
            var poller = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&poller, 1, left)
            if ready > 0 { return true }
            if ready < 0, errno == EINTR { continue }
            if ready == 0 { return false }
            return false
        }
    }

    /// Appends up to `atMost` bytes once some arrive.
    func read(into buffer: inout [UInt8], atMost: Int) -> ReadOutcome {
        var chunk = [UInt8](repeating: 0, count: atMost)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, atMost, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .data
            }
            if count == 0 { return .closed }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return .closed }
            guard wait(for: Int32(POLLIN)) else { return remainingMilliseconds == 0 ? .timedOut : .closed }
        }
    }

    /// Writes everything before the deadline; false when the peer is gone or too slow to take it.
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                continue
            }
            guard count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return false }
            guard wait(for: Int32(POLLOUT)) else { return false }
        }
        return true
    }

    /// Ends the answer and reads what the client still sends for a moment, so closing does not reset the
    /// connection (and destroy the answer) while unread request bytes are queued.
    func finish() {
        shutdown(fd, Int32(SHUT_WR))
        let until = min(deadline, ContinuousClock.now + .milliseconds(200))
        var drained = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        while drained < 64 * 1024, ContinuousClock.now < until {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Self.milliseconds(until: until)
            guard left > 0, poll(&poller, 1, left) > 0 else { return }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            drained += count
        }
    }
}
