import ArgumentParser
import Foundation
import Runtime

/// `endpoint`: time to `/healthz` of the sidecar's HTTP endpoint while neighbours misbehave: N idle connections,
/// N half-sent request heads, N slow readers (a receive buffer of 1 KiB, never reading, each asking a 1 MiB answer).
struct EndpointBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoint", abstract: "Time to /healthz under idle, half-sent and slow clients.")

    @Option(help: "Misbehaving clients per scenario.")
    var clients = 100

    @Option(help: "/healthz requests timed per scenario.")
    var requests = 50

    func run() async throws {
        let big = HTTPServerResponse(
            status: 200, contentType: "text/plain", text: String(repeating: "x", count: 1 << 20))
        let routes = SidecarRoutes(board: StatusBoard(StatusSnapshot()), health: Liveness<ContinuousClock>())
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            request.path == "/big" ? big : routes.handle(request)
        }
        server.start()
        defer { server.stop() }
        print(
            "time to /healthz, \(requests) requests each (ms); limits: \(server.limits.maxConnections) connections, deadline \(server.limits.deadline) s"
        )
        report("quiet", measure(server.port))
        do {
            let idle = (0..<clients).map { _ in BenchClient(port: server.port) }
            usleep(100_000)
            report("\(clients) idle clients", measure(server.port))
            withExtendedLifetime(idle) {}
        }
        waitIdle(server)
        do {
            let half = (0..<clients).map { _ in BenchClient(port: server.port) }
            for client in half { client.send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") }
            usleep(100_000)
            report("\(clients) half-sent heads", measure(server.port))
            withExtendedLifetime(half) {}
        }
        waitIdle(server)
        do {
            let readers = (0..<clients).map { _ in BenchClient(port: server.port, receiveBuffer: 1024) }
            for reader in readers { reader.send("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") }
            usleep(100_000)
            report("\(clients) slow readers", measure(server.port))
            withExtendedLifetime(readers) {}
        }
        print("refused with 503 (server full): \(server.refusedConnections)")
    }

    func waitIdle(_ server: HTTPServer) {
        let until = ContinuousClock.now + .seconds(10)
        while server.activeConnections > 0, ContinuousClock.now < until { usleep(20_000) }
    }

    func measure(_ port: Int) -> [Double] {
        (0..<requests).map { _ in
            let start = ContinuousClock.now
            let client = BenchClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let answer = client.readAll()
            precondition(
                answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.1 503"),
                "unexpected answer: \(answer.prefix(40))")
            return Double(start.duration(to: .now).components.attoseconds) / 1e15 + Double(
                start.duration(to: .now).components.seconds) * 1000
        }
    }

    func report(_ scenario: String, _ times: [Double]) {
        let padded = scenario.padding(toLength: 22, withPad: " ", startingAt: 0)
        print(
            "  \(padded) median \(format(median(times)))  p90 \(format(percentile(times, 0.9)))  max \(format(times.max() ?? .nan))"
        )
    }
}

/// A raw TCP client for the benchmark.
final class BenchClient {
    let fd: Int32

    init(port: Int, receiveBuffer: Int32? = nil) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

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

    deinit { close(fd) }
}
