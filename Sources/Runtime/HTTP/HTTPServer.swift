import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets: one thread accepts, one short-lived thread serves each connection.
///
/// Why hand-written rather than swift-nio (NIOHTTP1) or Hummingbird on top of it: the endpoint answers a handful of
/// internal requests (a Prometheus scrape, a healthcheck, a person's browser, the silence CLI) from an in-memory
/// snapshot, one request per connection. swift-nio would add its event loops, several megabytes of resident memory
/// and minutes to every clean build on two cores; the hand-written parser (`HTTPRequestHead.frame`) is small, strict
/// (RFC 9112 framing, refusing what it does not implement), and fuzzed (`scripts/fuzz`). The server never touches
/// Swift's cooperative pool, so a slow client cannot starve the scheduler.
///
/// What keeps it standing:
/// - at most `Limits.maxConnections` connections are served at once; past that a connection is answered 503 at once
///   and closed, instead of waiting behind idle clients;
/// - each connection has one monotonic deadline (`Limits.deadline`) for reading the request and writing the answer,
///   so an idle client, a half-sent head or a slow reader holds its slot for at most that long;
/// - the head is bounded (`Limits.maxHead`, 431 as soon as it is exceeded) and so is the body (`Limits.maxBody`, 413
///   before the body is read);
/// - a failing `accept` (EMFILE…) backs off (`AcceptBackoff`) instead of spinning.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequestHead) -> HTTPServerResponse

    public struct BindError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The endpoint's bounds.
    public struct Limits: Sendable, Equatable {
        /// Connections served at once (each holds a thread and a descriptor for at most `deadline`).
        public var maxConnections: Int
        /// Seconds from accept to the last byte of the answer.
        public var deadline: Double
        /// Bytes of request head (request line and header lines).
        public var maxHead: Int
        /// Bytes of request body (the silence API's JSON).
        public var maxBody: Int

        public init(maxConnections: Int = 256, deadline: Double = 5, maxHead: Int = 16 * 1024, maxBody: Int = 16 * 1024)
        {
            self.maxConnections = max(1, maxConnections)
            self.deadline = min(3600, max(0.05, deadline))
            self.maxHead = max(256, maxHead)
            self.maxBody = max(0, maxBody)
        }
    }

    private let listener: Int32
    private let handler: Handler
    public let limits: Limits
    private let stopping = Locked(false)
    private let started = Locked(false)
    private let stopped = DispatchSemaphore(value: 0)
    /// Connections being served now.
    private let active = Locked(0)
    /// Connections answered 503 because the server was full (for tests and the benchmark).
    private let refusedCount = Locked(0)
    /// The port actually bound (useful with port 0).
    public let port: Int
    public let host: String

    /// Binds and listens at once, so a taken port is an error at start, not later.
    public init(host: String, port: Int, limits: Limits = Limits(), handler: @escaping Handler) throws {
        self.handler = handler
        self.limits = limits
        self.host = host
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST
        var info: UnsafeMutablePointer<addrinfo>?
        let lookupHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(lookupHost, String(port), &hints, &info) == 0, let address = info else {
            throw BindError(description: "cannot listen on \(host):\(port): '\(host)' is not a numeric IP address")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw BindError(description: "cannot create a socket: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0, listen(fd, 511) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BindError(description: "cannot listen on \(host):\(port): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        listener = fd
        self.port = Self.boundPort(fd) ?? port
    }

    /// Connections being served at this moment.
    public var activeConnections: Int { active.current }
    /// Connections refused with 503 since the start because the server was full.
    public var refusedConnections: Int { refusedCount.current }

    /// Serves on a new thread until `stop()`.
    public func start() {
        started.withLock { $0 = true }
        let thread = Thread { [self] in
            serve()
            stopped.signal()
        }
        thread.name = "clearml-probe-http"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Stops accepting, waits for the accept thread, closes the socket; connections still open end by their deadline.
    public func stop() {
        let already = stopping.withLock { value in
            defer { value = true }
            return value
        }
        guard !already else { return }
        if started.current { stopped.wait() }
        close(listener)
        // Answers in flight get a moment; idle clients are not waited for (each ends at its own deadline), so a
        // neighbour holding connections open cannot delay a graceful shutdown.
        let until = ContinuousClock.now + .milliseconds(min(500, Int(limits.deadline * 1000)))
        while active.current > 0, ContinuousClock.now < until { usleep(10_000) }
    }

    private func serve() {
        var backoff = AcceptBackoff()
        while !stopping.current {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard client >= 0 else {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { continue }
                let wait = backoff.failed(errno: code)
                if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
                continue
            }
            backoff.succeeded()
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let admitted = active.withLock { count in
                guard count < limits.maxConnections else { return false }
                count += 1
                return true
            }
            guard admitted else {
                refusedCount.withLock { $0 += 1 }
                Self.refuseBusy(client)
                continue
            }
            let loopback = Self.isLoopback(peer)
            let connection = Thread { [self] in
                serveConnection(client, loopback: loopback)
                close(client)
                active.withLock { $0 -= 1 }
            }
            connection.name = "clearml-probe-http-conn"
            connection.stackSize = 512 * 1024
            connection.start()
        }
    }

    /// The server is full: a 503 written once without waiting (it fits in the socket buffer) and the connection closed.
    static func refuseBusy(_ client: Int32) {
        let bytes = [UInt8](
            HTTPServerResponse.plain(503, "too many connections; retry shortly", headers: [("Retry-After", "1")])
                .serialized())
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        shutdown(client, Int32(SHUT_WR))
        close(client)
    }

    /// One request and its answer, all before the connection's deadline.
    private func serveConnection(_ client: Int32, loopback: Bool) {
        let connection = Connection(
            fd: client, deadline: ContinuousClock.now + .milliseconds(Int(limits.deadline * 1000)))
        var buffer: [UInt8] = []
        let response: HTTPServerResponse
        var headOnly = false
        reading: while true {
            let wanted = limits.maxHead + 1 - buffer.count
            switch connection.read(into: &buffer, atMost: max(1, min(4096, wanted))) {
            case .closed: return
            case .timedOut:
                if buffer.isEmpty { return }
                response = .plain(408, "request timeout")
                break reading
            case .data: break
            }
            do throws(HTTPRequestHead.ParseError) {
                let framed = try HTTPRequestHead.frame(buffer, limit: limits.maxHead, fromLoopback: loopback)
                var head = framed.head
                headOnly = head.method == "HEAD"
                let length = framed.bodyLength
                guard length <= limits.maxBody else {
                    response = .plain(413, "request body larger than \(limits.maxBody) bytes")
                    break reading
                }
                let have = buffer.count - framed.headLength
                if have < length {
                    if head.expectsContinue, !connection.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) { return }
                    while buffer.count - framed.headLength < length {
                        switch connection.read(
                            into: &buffer, atMost: min(16 * 1024, framed.headLength + length - buffer.count))
                        {
                        case .closed: return
                        case .timedOut:
                            response = .plain(408, "request timeout (the body did not arrive)")
                            break reading
                        case .data: continue
                        }
                    }
                }
                head.body = Data(buffer[framed.headLength..<(framed.headLength + length)])
                response = handler(head)
                break reading
            } catch {
                switch error {
                case .incomplete: continue reading
                case .refused(let status, let reason):
                    response = .plain(status, reason)
                    break reading
                }
            }
        }
        guard connection.write([UInt8](response.serialized(headOnly: headOnly))) else { return }
        connection.finish()
    }

    static func boundPort(_ fd: Int32) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok =
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            } == 0
        guard ok else { return nil }
        return withUnsafePointer(to: &address) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default: nil
            }
        }
    }

    static func isLoopback(_ address: sockaddr_storage) -> Bool {
        var address = address
        return withUnsafePointer(to: &address) { pointer -> Bool in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr) >> 24 == 127
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                    let bytes = withUnsafeBytes(of: ipv6.pointee.sin6_addr) { Array($0) }
                    // ::1, or ::ffff:127.x.x.x (an IPv4 peer on a dual-stack socket).
                    return bytes == [UInt8](repeating: 0, count: 15) + [1]
                        || (bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                            && bytes[12] == 127)
                }
            default:
                false
            }
        }
    }
}
