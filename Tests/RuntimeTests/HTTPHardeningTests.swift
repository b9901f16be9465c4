import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

/// A raw TCP client, to misbehave the way a neighbour on the network can.
final class RawClient {
    let fd: Int32

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A receive buffer this small makes the client a slow reader for any answer larger than it.
    func shrinkReceiveBuffer() {
        var size: Int32 = 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// Everything until the server closes (or 5 s pass).
    func readAll() -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            data.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }

    var statusLine: String { readAll().components(separatedBy: "\r\n").first ?? "" }

    deinit { close(fd) }
}

@Suite("The endpoint holds up against idle, slow and malformed clients", .serialized)
struct HTTPHardeningTests {
    static func healthz(_ fixture: EndpointFixture) async throws -> (status: Int, seconds: Double) {
        let start = ContinuousClock.now
        let response = try await fixture.get("/healthz")
        return (response.status, start.duration(to: .now).seconds)
    }

    @Test func idleClientsAndHalfSentHeadsDoNotDelayHealthz() async throws {
        let fixture = try EndpointFixture()
        var clients: [RawClient] = (0..<50).map { _ in RawClient(port: fixture.server.port) }
        for _ in 0..<10 {
            let client = RawClient(port: fixture.server.port)
            client.send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            clients.append(client)
        }
        try await Task.sleep(for: .milliseconds(100))
        for _ in 0..<5 {
            let (status, seconds) = try await Self.healthz(fixture)
            #expect(status == 200)
            #expect(seconds < 1, "healthz took \(seconds) s behind 60 idle connections")
        }
        #expect(fixture.server.activeConnections >= 60)
        withExtendedLifetime(clients) {}
    }

    @Test func aSlowReaderIsCutOffAtTheDeadlineAndDoesNotBlockOthers() async throws {
        let board = StatusBoard(Fixtures.snapshot())
        let routes = SidecarRoutes(board: board, health: FixedHealth(alive: true))
        // A big answer that cannot fit the socket buffers of a client that never reads.
        let big = HTTPServerResponse(
            status: 200, contentType: "text/plain", text: String(repeating: "x", count: 8 << 20))
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: .init(deadline: 1)) { request in
            request.path == "/big" ? big : routes.handle(request)
        }
        server.start()
        defer { server.stop() }
        let readers = (0..<5).map { _ in RawClient(port: server.port) }
        for reader in readers {
            reader.shrinkReceiveBuffer()
            reader.send("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        let health = try await HTTPClient().perform(
            HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/healthz")!, timeout: 5)
        ).get()
        #expect(health.status == 200)
        #expect(start.duration(to: .now).seconds < 1)
        // Past the one-second deadline the server has given up on every slow reader.
        let waited = ContinuousClock.now
        while server.activeConnections > 0, waited.duration(to: .now) < .seconds(4) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.activeConnections == 0, "slow readers still hold \(server.activeConnections) connections")
        withExtendedLifetime(readers) {}
    }

    @Test func aFullServerAnswers503AtOnce() async throws {
        let routes = SidecarRoutes(board: StatusBoard(Fixtures.snapshot()), health: FixedHealth(alive: true))
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: .init(maxConnections: 3, deadline: 5)) {
            routes.handle($0)
        }
        server.start()
        defer { server.stop() }
        let idle = (0..<3).map { _ in RawClient(port: server.port) }
        let waited = ContinuousClock.now
        while server.activeConnections < 3, waited.duration(to: .now) < .seconds(2) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let start = ContinuousClock.now
        let extra = RawClient(port: server.port)
        extra.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(extra.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(start.duration(to: .now).seconds < 1, "the refusal does not wait for the idle clients")
        #expect(server.refusedConnections >= 1)
        withExtendedLifetime(idle) {}
    }

    @Test func oversizedAndMalformedRequestsGetTheirStatusQuickly() async throws {
        let fixture = try EndpointFixture()
        let cases: [(String, [UInt8], String)] = [
            (
                "a 2 MB header line",
                Array("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".utf8) + [UInt8](repeating: 0x61, count: 2 << 20), "431"
            ),
            (
                "a chunked body",
                Array(
                    "POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8
                ), "501"
            ),
            (
                "Content-Length +3",
                Array("POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +3\r\n\r\nabc".utf8), "400"
            ),
            (
                "Content-Length 1e3",
                Array("POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1e3\r\n\r\n".utf8), "400"
            ),
            (
                "a space before the colon",
                Array("POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length : 3\r\n\r\nabc".utf8), "400"
            ),
            (
                "two Content-Lengths",
                Array(
                    "POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc"
                        .utf8), "400"
            ),
            (
                "a body over the limit",
                Array("POST /api/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n".utf8), "413"
            ),
            ("TLS on the plain port", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03], "400"),
        ]
        for (what, bytes, status) in cases {
            let client = RawClient(port: fixture.server.port)
            let start = ContinuousClock.now
            client.send(bytes)
            let line = client.statusLine
            #expect(line.hasPrefix("HTTP/1.1 \(status) "), "\(what): \(line)")
            #expect(start.duration(to: .now).seconds < 1, "\(what) took \(start.duration(to: .now))")
        }
        // A client that stops mid-head gets 408 at the deadline, then the connection is closed.
        #expect(try await fixture.get("/healthz").status == 200)
    }

    @Test func acceptErrorsBackOff() {
        var backoff = AcceptBackoff(initial: 0.01, maximum: 1)
        #expect(backoff.failed(errno: ECONNABORTED) == 0)
        #expect(backoff.failed(errno: EINTR) == 0)
        let waits = (0..<10).map { _ in backoff.failed(errno: EMFILE) }
        #expect(waits == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1, 1, 1])
        #expect(backoff.failed(errno: ENFILE) == 1)
        backoff.succeeded()
        #expect(backoff.failed(errno: ENOBUFS) == 0.01)
    }
}
