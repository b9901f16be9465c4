import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

/// Changing silences through the endpoint: refused to strangers, to other sites, to rebound names and to text.
@Suite("Silence API is safe by default", .serialized)
struct SilenceGuardTests {
    static let body = Data(#"{"match":"redis","for":"2h","reason":"disk swap"}"#.utf8)

    static func routes(_ directory: TempDirectory, auth: HTTPAuth = .none) -> SidecarRoutes {
        SidecarRoutes(
            board: StatusBoard(Fixtures.snapshot()), health: FixedHealth(alive: true), auth: auth,
            silences: SilenceAPI(store: SilenceStore(directory: directory.path)),
            silenceGuard: SilenceGuard(listenHost: "0.0.0.0", extraHosts: ["probe.internal"], machineHostName: "box"))
    }

    static func post(
        host: String? = "127.0.0.1:9469", origin: String? = nil, type: String? = "application/json",
        authorization: String? = nil, loopback: Bool = true
    ) -> HTTPRequestHead {
        var headers: [String: String] = [:]
        if let host { headers["host"] = host }
        if let origin { headers["origin"] = origin }
        if let type { headers["content-type"] = type }
        if let authorization { headers["authorization"] = authorization }
        var request = HTTPRequestHead(method: "POST", path: SilenceAPI.path, headers: headers, fromLoopback: loopback)
        request.body = body
        return request
    }

    @Test func withoutACredentialOnlyLoopbackMayChangeSilences() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let routes = Self.routes(directory)
        let stranger = routes.handle(Self.post(loopback: false))
        #expect(stranger.status == 403)
        #expect(String(decoding: stranger.body, as: UTF8.self).contains("CLEARML_PROBE_HTTP_TOKEN"))
        var delete = HTTPRequestHead(
            method: "DELETE", path: SilenceAPI.path + "/s-1", headers: ["host": "127.0.0.1"], fromLoopback: false)
        delete.body = Data()
        #expect(routes.handle(delete).status == 403)
        #expect(
            routes.handle(
                HTTPRequestHead(method: "GET", path: SilenceAPI.path, headers: ["host": "x"], fromLoopback: false)
            ).status == 200,
            "reading stays open like the other routes")
        #expect(routes.handle(Self.post()).status == 201, "the CLI in the container, on loopback")
        #expect(try SilenceStore(directory: directory.path).load().silences.count == 1)
    }

    @Test func withACredentialEveryHostNeedsIt() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let routes = Self.routes(directory, auth: HTTPAuth(token: Secret("tok")))
        #expect(routes.handle(Self.post(loopback: true)).status == 401)
        #expect(routes.handle(Self.post(authorization: "Bearer nope", loopback: false)).status == 401)
        #expect(
            routes.handle(Self.post(host: "probe.internal:9469", authorization: "Bearer tok", loopback: false)).status
                == 201)
    }

    @Test(
        arguments: [
            ("evil.example:9469", nil, "application/json", 403),  // DNS rebinding: the attacker's name
            ("127.0.0.1:9469", "http://evil.example", "application/json", 403),  // cross-site form or fetch
            ("localhost:9469", "http://localhost:3000", "application/json", 403),  // another local origin
            ("127.0.0.1:9469", "null", "application/json", 403),
            ("127.0.0.1:9469", nil, "text/plain", 415),  // a simple cross-site POST
            ("127.0.0.1:9469", nil, nil, 415),
            ("127.0.0.1:9469", nil, "application/x-www-form-urlencoded", 415),
            (nil, nil, "application/json", 403),
            ("localhost:9469", "http://localhost:9469", "application/json; charset=utf-8", 201),
            ("[::1]:9469", nil, "application/json", 201),
            ("10.1.2.3:9469", nil, "application/json", 201),
            ("box", "http://box", "application/json", 201),
        ] as [(String?, String?, String?, Int)])
    func originHostAndContentType(host: String?, origin: String?, type: String?, status: Int) throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        #expect(Self.routes(directory).handle(Self.post(host: host, origin: origin, type: type)).status == status)
    }

    @Test func overTheWireAWrongOriginAndATextBodyAreRefused() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let routes = Self.routes(directory)
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { routes.handle($0) }
        server.start()
        defer { server.stop() }
        func post(_ headers: [(name: String, value: String)]) async throws -> Int {
            let request = HTTPRequest(
                method: "POST", url: URL(string: "http://127.0.0.1:\(server.port)\(SilenceAPI.path)")!,
                headers: headers, body: Self.body, timeout: 5)
            return try await HTTPClient().perform(request).get().status
        }
        #expect(try await post([("Content-Type", "text/plain")]) == 415)
        #expect(try await post([("Content-Type", "application/json"), ("Origin", "https://evil.example")]) == 403)
        #expect(try await post([("Content-Type", "application/json"), ("Host", "rebound.evil.example:9469")]) == 403)
        #expect(try await post([("Content-Type", "application/json")]) == 201)
        #expect(try SilenceStore(directory: directory.path).load().silences.count == 1)
        // The CLI goes through the sidecar with its JSON content type.
        let target = SilenceClient.Target.sidecar(base: "http://127.0.0.1:\(server.port)", authorization: nil)
        let added = try await SilenceClient.add(
            target, match: "redis.write", duration: "1h", reason: "cli", createdBy: nil)
        #expect(try await SilenceClient.list(target).contains { $0.id == added.id })
        _ = try await SilenceClient.remove(target, id: added.id)
    }

    @Test func aFullCapRefusesNewSilencesInsteadOfEvictingRealOnes() throws {
        let now = Date(timeIntervalSince1970: 1_787_392_800)
        var silences = Silences()
        for index in 0..<Silences.cap {
            try silences.add(match: "redis", duration: 3600, reason: "real \(index)", now: now, id: "s-\(index)")
        }
        #expect(throws: Silences.Failure.self) {
            try silences.add(match: "redis", duration: 60, reason: "junk", now: now, id: "s-junk")
        }
        #expect(silences.silences.count == Silences.cap)
        #expect(silences.silences.first?.id == "s-0", "the oldest real silence is still there")
        // Expired ones make room.
        let later = now.addingTimeInterval(7200)
        try silences.add(match: "redis", duration: 60, reason: "after", now: later, id: "s-after")
        #expect(silences.silences.count == Silences.cap)
        #expect(silences.silences.last?.id == "s-after")
        #expect(throws: Silences.Failure.self) {
            try silences.add(match: String(repeating: "r", count: 300), duration: 60, reason: "long", now: later)
        }
    }

    @Test func theAPIAnswers507WhenFull() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let now = Date()
        let store = SilenceStore(directory: directory.path)
        try store.update { silences in
            for index in 0..<Silences.cap {
                try silences.add(match: "redis", duration: 3600, reason: "r", now: now, id: "s-\(index)")
            }
        }
        let answer = try #require(
            SilenceAPI(store: store).handle(method: "POST", path: SilenceAPI.path, body: Self.body))
        #expect(answer.status == 507)
        #expect(SilenceAPI.decodeError(answer.body)?.contains("remove some") == true)
    }
}
