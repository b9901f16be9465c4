import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

/// The real server on a loopback port, serving a fixed snapshot.
final class EndpointFixture: @unchecked Sendable {
    // @unchecked: immutable after init.
    let server: HTTPServer
    let board: StatusBoard

    init(snapshot: StatusSnapshot = Fixtures.snapshot(), auth: HTTPAuth = .none, alive: Bool = true) throws {
        board = StatusBoard(snapshot)
        let routes = SidecarRoutes(board: board, health: FixedHealth(alive: alive), auth: auth)
        server = try HTTPServer(host: "127.0.0.1", port: 0) { routes.handle($0) }
        server.start()
    }

    var base: String { "http://127.0.0.1:\(server.port)" }

    func get(_ path: String, headers: [(name: String, value: String)] = [], method: String = "GET") async throws
        -> HTTPResponse
    {
        let request = HTTPRequest(
            method: method, url: URL(string: base + path)!, headers: headers, timeout: 5, maxBodyBytes: 1 << 20)
        return try await HTTPClient().perform(request).get()
    }

    deinit { server.stop() }
}

@Suite struct HTTPEndpointTests {
    @Test func servesEveryRouteFromTheSnapshot() async throws {
        let fixture = try EndpointFixture()
        let metrics = try await fixture.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type") == MetricsExposition.contentType)
        #expect(metrics.text.contains("clearml_probe_check_status{"))

        let status = try await fixture.get("/status")
        #expect(status.status == 200)
        let document = try #require(JSONValue.parse(status.body))
        #expect(document["status"]?.string == "critical")
        #expect(document["root_causes"]?.array?.isEmpty == false)
        #expect(
            document["checks"]?.array?.first?["root_cause"] == .null
                || document["checks"]?.array?.first?["root_cause"] != nil)
        #expect(document.at("alerts.attached")?.bool == false)
        #expect(document.at("alerts.dead_letter_count")?.int == 0)
        #expect(document.at("alerts.dead_letters")?.array?.isEmpty == true)
        #expect(document.at("sidecar.cycles")?.int == 42)

        let page = try await fixture.get("/")
        #expect(page.status == 200)
        #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
        #expect(page.text.contains("<meta http-equiv=\"refresh\""))

        let health = try await fixture.get("/healthz")
        #expect(health.status == 200)
        #expect(health.text == "ok\n")

        #expect(try await fixture.get("/nope").status == 404)
        #expect(try await fixture.get("/metrics", method: "POST").status == 405)
        let head = try await fixture.get("/metrics", method: "HEAD")
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test func statusCarriesTheAlertingState() async throws {
        let alerts = AlertSummary(
            openIncidents: 1, outboxDepth: 2, deadLetters: 3,
            details: ["incidents": .array([.object(["service": .string("apiserver")])])])
        let fixture = try EndpointFixture(snapshot: Fixtures.snapshot(alerts: alerts))
        let document = try #require(JSONValue.parse(try await fixture.get("/status").body))
        #expect(document.at("alerts.attached")?.bool == true)
        #expect(document.at("alerts.open_incidents")?.int == 1)
        #expect(document.at("alerts.outbox_depth")?.int == 2)
        #expect(document.at("alerts.dead_letter_count")?.int == 3)
        #expect(document["alerts"]?["incidents"]?.array?.first?["service"]?.string == "apiserver")
    }

    @Test func beforeTheFirstResultStatusSaysSo() async throws {
        let fixture = try EndpointFixture(snapshot: StatusSnapshot())
        let response = try await fixture.get("/status")
        #expect(response.status == 503)
        #expect(JSONValue.parse(response.body)?["status"]?.string == "unknown")
        #expect(try await fixture.get("/").text.contains("No check has finished yet"))
    }

    @Test func aWedgedSchedulerFailsHealthz() async throws {
        let fixture = try EndpointFixture(alive: false)
        let health = try await fixture.get("/healthz")
        #expect(health.status == 503)
        #expect(health.text.contains("wedged"))
    }

    @Test func bearerAndBasicAuthProtectEverythingButHealthz() async throws {
        let auth = HTTPAuth(token: Secret("s3cret-token"), basic: ("ops", Secret("pa:ss")))
        let fixture = try EndpointFixture(auth: auth)
        for path in ["/", "/metrics", "/status"] {
            let denied = try await fixture.get(path)
            #expect(denied.status == 401)
            #expect(denied.header("www-authenticate")?.hasPrefix("Basic") == true)
            #expect(!denied.text.contains("clearml_probe"))
            #expect(try await fixture.get(path, headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try await fixture.get(path, headers: [("Authorization", "Bearer s3cret-token")]).status == 200)
            let basic = Data("ops:pa:ss".utf8).base64EncodedString()
            #expect(try await fixture.get(path, headers: [("Authorization", "Basic \(basic)")]).status == 200)
            let wrong = Data("ops:nope".utf8).base64EncodedString()
            #expect(try await fixture.get(path, headers: [("Authorization", "Basic \(wrong)")]).status == 401)
        }
        #expect(try await fixture.get("/healthz").status == 200)
    }

    @Test func aClientThatSendsNothingDoesNotBlockOthersForLong() async throws {
        let fixture = try EndpointFixture()
        // A silent connection holds the single thread for at most the I/O timeout (2 s).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(fixture.server.port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let start = Date()
        #expect(try await fixture.get("/healthz").status == 200)
        #expect(Date().timeIntervalSince(start) < 2 + 1.5)
    }
}

@Suite struct HTTPRequestHeadTests {
    static func refusal(_ text: String, limit: Int = 16 * 1024) -> Int? {
        do {
            _ = try HTTPRequestHead.frame(Array(text.utf8), limit: limit)
            return nil
        } catch {
            if case .refused(let status, _) = error { return status }
            return 0
        }
    }

    @Test func parsesTheHead() throws {
        let head = try HTTPRequestHead.parse(
            Array("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n\r\n".utf8))
        #expect(head.method == "GET")
        #expect(head.path == "/metrics")
        #expect(head.query == "x=1")
        #expect(head.header("authorization") == "Bearer t")
        let absolute = try HTTPRequestHead.parse(
            Array("GET http://probe:9469/status HTTP/1.1\r\nHost: other\r\n\r\n".utf8))
        #expect(absolute.path == "/status")
        #expect(absolute.header("host") == "probe:9469", "the absolute form's authority replaces Host")
    }

    @Test func incompleteUntilTheBlankLine() {
        #expect(throws: HTTPRequestHead.ParseError.incomplete) {
            try HTTPRequestHead.parse(Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8))
        }
        #expect(throws: HTTPRequestHead.ParseError.self) { try HTTPRequestHead.parse(Array("NONSENSE\r\n\r\n".utf8)) }
    }

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\nHost: a\n\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417),
        ("\u{16}\u{3}\u{1}\u{2}\u{0}", 400),
    ])
    func refusesWhatItDoesNotImplement(request: String, status: Int) {
        #expect(Self.refusal(request) == status, "\(request.debugDescription)")
    }

    @Test func headLimitIsExact() {
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        let fits = base + String(repeating: "x", count: 1024 - base.utf8.count - 4) + "\r\n\r\n"
        #expect(fits.utf8.count == 1024)
        #expect(Self.refusal(fits, limit: 1024) == nil)
        let over = base + String(repeating: "x", count: 1024 - base.utf8.count - 3) + "\r\n\r\n"
        #expect(Self.refusal(over, limit: 1024) == 431)
        // A huge line is refused as soon as the limit is passed, without its end.
        #expect(Self.refusal(base + String(repeating: "x", count: 2000), limit: 1024) == 431)
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X: y\r\n", count: 101) + "\r\n"
        #expect(Self.refusal(many) == 431)
    }

    @Test func acceptsWhatClientsSend() throws {
        let framed = try HTTPRequestHead.frame(
            Array(
                "\r\nPOST /api/silences HTTP/1.1\r\nHost: [::1]:9469\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n{}"
                    .utf8))
        #expect(framed.bodyLength == 2)
        #expect(framed.head.expectsContinue)
        #expect(framed.head.header("host") == "[::1]:9469")
        let old = try HTTPRequestHead.parse(Array("GET /healthz HTTP/1.0\r\n\r\n".utf8))
        #expect(old.version == "HTTP/1.0")
    }
}
