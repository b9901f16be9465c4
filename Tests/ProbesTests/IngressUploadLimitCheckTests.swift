import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `ingress.upload_limit` against a real nginx in front of the ClearML double's fileserver: a declared upload above
/// `client_max_body_size` is refused with 413 before any body, one below it is asked for (100 Continue), and in
/// neither case does a body byte leave the probe or a request reach the fileserver.
@Suite(.serialized)
final class IngressUploadLimitCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    /// nginx with one files host limited to `limit`, proxying to the double's fileserver; every request's status and
    /// `$request_length` (head and body bytes nginx read) go to logs/upload.log.
    func nginx(limit: String, buffering: Bool = true) throws -> (NginxServer, Int) {
        let port = Ports.free()
        let server = try NginxServer(
            httpBlock: """
                log_format upload '$status $request_length $request_method';
                server {
                    listen 127.0.0.1:\(port);
                    access_log logs/upload.log upload;
                    client_max_body_size \(limit);
                    \(buffering ? "" : "proxy_request_buffering off;")
                    location / { proxy_pass http://127.0.0.1:\(clearml.double.port("files")); }
                }
                """, waitPort: port)
        return (server, port)
    }

    func run(port: Int, expected: String = "512mb", readOnly: Bool = false) async throws -> Report {
        let loaded = try clearml.loaded(
            checks: "  ingress.upload_limit: {expected_upload: \(expected)}\n  ingress.routes: {routes: [files]}",
            filesIngress: "http://127.0.0.1:\(port)")
        return await clearml.run(loaded, only: [.ingressUploadLimit, .ingressRoutes], readOnly: readOnly)
    }

    /// What the double's fileserver received other than `GET /` (ingress.routes/files).
    func uploadsReceived() async throws -> [[String: Any]] {
        let requests = try await clearml.double.control("/requests", method: "GET") as? [[String: Any]] ?? []
        return requests.filter { $0["role"] as? String == "files" && $0["method"] as? String != "GET" }
    }

    /// `status request_length method` lines of nginx's log, once the POST is logged (nginx logs when it closes).
    func loggedPost(_ server: NginxServer) async throws -> [String] {
        for _ in 0..<40 {
            let lines = ((try? String(contentsOfFile: server.prefix.file("logs/upload.log"), encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init).filter { $0.hasSuffix("POST") }
            if !lines.isEmpty { return lines }
            try await Task.sleep(for: .milliseconds(50))
        }
        return []
    }

    @Test func aLimitBelowTheExpectedUploadIsNginxsRootCauseAtOnce() async throws {
        let (server, port) = try nginx(limit: "1m")
        defer { server.stop() }
        let (report, seconds) = try await timed { try await run(port: port) }
        let result = try #require(report.result("ingress.upload_limit/files"))
        #expect(result.status == .critical, "\(result.summary)")
        #expect(
            result.summary.contains("client_max_body_size") && result.summary.contains("512 MB")
                && result.summary.contains("413"), "\(result.summary)")
        #expect(result.service == .nginx)
        #expect(result.hint?.contains("client_max_body_size") == true)
        #expect(result.evidence?.contains("413") == true)
        #expect(report.result("ingress.routes/files")?.status == .ok)
        #expect(report.rootCauses == ["ingress.upload_limit/files"], "\(report.rootCauses)")
        #expect(seconds < 1.5, "413 comes before any body: \(seconds) s")
        #expect(try await uploadsReceived().isEmpty)
        let logged = try await loggedPost(server)
        #expect(logged.count == 1 && logged[0].hasPrefix("413 "), "\(logged)")
        #expect(
            logged.allSatisfy { (Int($0.split(separator: " ")[1]) ?? .max) < 1024 }, "only the head was read: \(logged)"
        )
    }

    @Test func aLargerLimitIsOKWithoutABody() async throws {
        let (server, port) = try nginx(limit: "2g")
        defer { server.stop() }
        let report = try await run(port: port, readOnly: true)
        let result = try #require(report.result("ingress.upload_limit/files"), "read-only runs it: it stores nothing")
        #expect(result.status == .ok, "\(result.summary)")
        #expect(
            result.summary.contains("at least 512 MB") && result.summary.contains("no body was sent"),
            "\(result.summary)")
        #expect(result.metrics["expected_upload_bytes"] == 536_870_912)
        #expect(
            try await uploadsReceived().isEmpty, "nginx reads the body before it proxies: the fileserver sees nothing")
        let logged = try await loggedPost(server)
        #expect(logged.count == 1, "\(logged)")
        #expect(
            logged.allSatisfy { (Int($0.split(separator: " ")[1]) ?? .max) < 1024 }, "only the head was sent: \(logged)"
        )
    }

    @Test func withoutRequestBufferingTheFileserverStoresNothing() async throws {
        // proxy_request_buffering off (as for the files host of compose/nginx): nginx may pass the head on before the
        // body; the connection closes without one, and the fileserver drops the request.
        let (server, port) = try nginx(limit: "0", buffering: false)
        defer { server.stop() }
        let result = try #require(try await run(port: port).result("ingress.upload_limit/files"))
        #expect(result.status == .ok, "\(result.summary)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await uploadsReceived().isEmpty)
        #expect(try await clearml.count("files", "upload") == 0)
    }

    /// Over HTTPS with HTTP/2 offered (ALPN): nginx sends no 100 Continue on HTTP/2, so the check speaks HTTP/1.1
    /// and still gets its answer at once.
    @Test(arguments: ["1m", "2g"])
    func overHTTPSWithHTTP2OfferedTheAnswerComesAtOnce(_ limit: String) async throws {
        let certs = try TestCertificates()
        defer { certs.directory.remove() }
        let pair = try certs.issue("files", hosts: ["files.test"])
        let port = Ports.free()
        let server = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(pair.cert);
                    ssl_certificate_key \(pair.key);
                    client_max_body_size \(limit);
                    location / { proxy_pass http://127.0.0.1:\(clearml.double.port("files")); }
                }
                """, waitPort: port)
        defer { server.stop() }
        let yaml = clearml.yaml(checks: "  ingress.upload_limit: {}", filesIngress: "https://files.test")
            .replacingOccurrences(
                of: "ingress:\n", with: "ingress:\n  connect_to: 127.0.0.1:\(port)\n  ca_file: \(certs.caCertificate)\n"
            )
        let loaded = try LoadedConfig.fromYAML(yaml, file: "test.yaml")
        let (report, seconds) = await timed { await clearml.run(loaded, only: [.ingressUploadLimit]) }
        let result = try #require(report.result("ingress.upload_limit/files"))
        #expect(result.status == (limit == "1m" ? .critical : .ok), "\(result.summary)")
        #expect(result.summary.contains("files.test via 127.0.0.1:\(port)"), "\(result.summary)")
        #expect(seconds < 1.5, "\(seconds) s")
        #expect(try await uploadsReceived().isEmpty)
    }

    @Test func aClosedFilesHostIsASymptomOfTheRoute() async throws {
        let report = try await run(port: Ports.free())
        let result = try #require(report.result("ingress.upload_limit/files"))
        #expect(result.status == .unknown, "\(result.summary)")
        #expect(result.summary.contains("connection refused"), "\(result.summary)")
        #expect(result.role == .symptom, "\(result.role)")
        #expect(!report.rootCauses.contains("ingress.upload_limit/files"))
    }

    // MARK: pure parts

    @Test(
        arguments: [
            (100, false, Status.ok, "at least 512 MB"),
            (413, true, .critical, "client_max_body_size"),
            (413, false, .critical, "not nginx's page"),
            (502, true, .unknown, "no answer from the fileserver"),
            (401, false, .unknown, "neither 413 nor 100 Continue"),
            (200, false, .unknown, "neither 413 nor 100 Continue"),
        ] as [(Int, Bool, Status, String)])
    func verdicts(_ status: Int, _ fromNginx: Bool, _ expected: Status, _ words: String) {
        let verdict = IngressUploadLimitCheck.judge(
            status: status, fromNginx: fromNginx, size: "512 MB", place: "files.test:443")
        #expect(verdict.status == expected, "\(verdict.summary)")
        #expect(verdict.summary.contains(words), "\(verdict.summary)")
        #expect(
            verdict.dependsOn.isEmpty == (status == 413),
            "a 413 is decided on the head alone; the rest ride on the route")
    }

    @Test func theExpectedUploadIsASize() throws {
        #expect(throws: ConfigError.self) {
            try clearml.loaded(checks: "  ingress.upload_limit: {expected_upload: 512}")
        }
        #expect(throws: ConfigError.self) {
            try clearml.loaded(checks: "  ingress.upload_limit: {expected_upload: 2tb}")
        }
        let loaded = try clearml.loaded(checks: "  ingress.upload_limit: {expected_upload: 1.5gb}")
        let check = try #require(loaded.checks.first { $0.id == .ingressUploadLimit })
        guard case .ready(let ready) = check.plan, let limit = ready as? IngressUploadLimitCheck else {
            Issue.record("not ready")
            return
        }
        #expect(limit.expected == 1_610_612_736)
        let direct = try clearml.loaded(checks: "  ingress.upload_limit: {}", ingress: false)
        guard case .notConfigured(let reason)? = direct.checks.first(where: { $0.id == .ingressUploadLimit })?.plan
        else {
            Issue.record("runs without a files host")
            return
        }
        #expect(reason.contains("CLEARML_FILES_HOST"))
    }
}
