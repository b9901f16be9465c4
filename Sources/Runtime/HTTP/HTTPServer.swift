import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets, on one thread of its own.
///
/// Why hand-written rather than FlyingFox (+7 s clean build) or Hummingbird (+150 s): the endpoint serves a handful
/// of internal requests (a Prometheus scrape, a healthcheck, a person's browser) from an in-memory snapshot, so a
/// single thread that accepts, reads one request head, answers and closes is enough; it adds no dependency, no
/// build time and the least memory, and it never touches Swift's cooperative pool, so a slow client cannot starve
/// the scheduler. Every socket has send/receive timeouts, so a client that stalls holds the thread for at most
/// `ioTimeout`.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequestHead) -> HTTPServerResponse

    public struct BindError: Error, CustomStringConvertible {
        public var description: String
    }

    private let listener: Int32
    private let handler: Handler
    private let ioTimeout: Double
    /// The largest request body accepted (the silence API's JSON).
    private let maxBody: Int
    private let stopping = Locked(false)
    private let started = Locked(false)
    private let stopped = DispatchSemaphore(value: 0)
    /// The port actually bound (useful with port 0).
    public let port: Int
    public let host: String

    /// Binds and listens at once, so a taken port is an error at start, not later.
    public init(host: String, port: Int, ioTimeout: Double = 2, maxBody: Int = 16 * 1024, handler: @escaping Handler) throws {
        self.handler = handler
        self.maxBody = maxBody
        self.ioTimeout = ioTimeout
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
        let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BindError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BindError(description: "cannot listen on \(host):\(port): \(reason)")
        }
        listener = fd
        self.port = Self.boundPort(fd) ?? port
    }

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

    /// Stops accepting, waits for the thread to end (at most one request in progress), closes the socket.
    public func stop() {
        let already = stopping.withLock { value in defer { value = true }; return value }
        guard !already else { return }
        if started.current { stopped.wait() }
        close(listener)
    }

    private func serve() {
        while !stopping.current {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard client >= 0 else { continue }
            handle(client, loopback: Self.isLoopback(peer))
            close(client)
        }
    }

    private func handle(_ client: Int32, loopback: Bool) {
        var timeout = timeval(tv_sec: Int(ioTimeout), tv_usec: Int((ioTimeout - Double(Int(ioTimeout))) * 1_000_000))
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(ioTimeout)
        var response: HTTPServerResponse
        var headOnly = false
        while true {
            let count = recv(client, &chunk, chunk.count, 0)
            if count <= 0 || Date() > deadline {
                if buffer.isEmpty { return }
                response = HTTPServerResponse(status: 408, contentType: "text/plain; charset=utf-8", text: "request timeout\n")
                break
            }
            buffer.append(contentsOf: chunk[0..<count])
            do {
                var head = try HTTPRequestHead.parse(buffer, fromLoopback: loopback)
                headOnly = head.method == "HEAD"
                let length = head.contentLength
                if length > maxBody {
                    response = HTTPServerResponse(status: 413, contentType: "text/plain; charset=utf-8", text: "body too large\n")
                    break
                }
                let bodyStart = HTTPRequestHead.headEnd(buffer) ?? buffer.count
                if buffer.count - bodyStart < length { continue }
                head.body = Data(buffer[bodyStart..<(bodyStart + length)])
                response = handler(head)
                break
            } catch .incomplete {
                if buffer.count > 16 * 1024 {
                    response = HTTPServerResponse(status: 431, contentType: "text/plain; charset=utf-8", text: "request head too large\n")
                    break
                }
            } catch {
                response = HTTPServerResponse(status: 400, contentType: "text/plain; charset=utf-8", text: "bad request\n")
                break
            }
        }
        let bytes = [UInt8](response.serialized(headOnly: headOnly))
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
        shutdown(client, Int32(SHUT_WR))
    }

    static func boundPort(_ fd: Int32) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        } == 0
        guard ok else { return nil }
        return withUnsafePointer(to: &address) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
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
                        || (bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127)
                }
            default:
                false
            }
        }
    }
}
