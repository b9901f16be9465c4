import Foundation
import NativeClients
import ProbeCore
import Probes
import Runtime
import TestSupport

/// One ClearML double behind a real nginx with several listeners (hardened HTTP, bare HTTP, and HTTPS with a good,
/// an expired, a wrong-name and an untrusted certificate), shared by the foundation fault-matrix suites.
final class IngressFixture: @unchecked Sendable {
    // @unchecked: set up once in init, then only read.
    let clearml: PythonDouble
    let blackhole: TestProcess
    let blackholePort: Int
    let nginx: NginxServer
    let certs: TestCertificates
    let hardened: Int
    let bare: Int
    let tlsGood: Int
    let tlsExpired: Int
    let tlsWrongName: Int
    let tlsUntrusted: Int
    let tlsSoon: Int

    static let shared: Result<IngressFixture, Error> = Result { try IngressFixture() }

    static func get() throws -> IngressFixture { try shared.get() }

    init() throws {
        clearml = try PythonDouble(
            "clearml_double.py", arguments: ["--access-key", "PROBEKEY", "--secret-key", "probe-secret-value"])
        blackhole = try TestProcess(
            "blackhole", executable: "/usr/bin/env",
            arguments: ["python3", Repository.path("Tests/doubles/blackhole.py")])
        blackholePort = try blackhole.waitPorts()["blackhole"] ?? -1
        certs = try TestCertificates()
        let hosts = ["app.test", "api.test", "files.test"]
        let good = try certs.issue("good", hosts: hosts)
        let expired = try certs.issue(
            "expired", hosts: hosts, start: Date().addingTimeInterval(-90 * 86400),
            end: Date().addingTimeInterval(-86400))
        let wrongName = try certs.issue("wrong", hosts: ["other.test"])
        let untrusted = try certs.issue("untrusted", hosts: hosts, selfSigned: true)
        let soon = try certs.issue("soon", hosts: hosts, end: Date().addingTimeInterval(10 * 86400))
        hardened = Ports.free()
        bare = Ports.free()
        tlsGood = Ports.free()
        tlsExpired = Ports.free()
        tlsWrongName = Ports.free()
        tlsUntrusted = Ports.free()
        tlsSoon = Ports.free()
        let web = clearml.port("web")
        let api = clearml.port("api")
        let files = clearml.port("files")
        func routes(headers: Bool, https: Bool) -> String {
            let hardening =
                headers
                ? """
                    add_header X-Content-Type-Options nosniff always;
                    add_header X-Frame-Options SAMEORIGIN always;
                    add_header Referrer-Policy strict-origin-when-cross-origin always;
                    \(https ? "add_header Strict-Transport-Security \"max-age=31536000\" always;" : "")
                """ : ""
            return """
                    proxy_connect_timeout 1s;
                    proxy_read_timeout 1s;
                    proxy_set_header Host $host;
                    \(hardening)
                    location / {
                        if ($host = api.test) { proxy_pass http://127.0.0.1:\(api); }
                        if ($host = files.test) { proxy_pass http://127.0.0.1:\(files); }
                        proxy_pass http://127.0.0.1:\(web);
                    }
                """
        }
        func tlsServer(_ port: Int, _ pair: (cert: String, key: String)) -> String {
            """
            server {
                listen 127.0.0.1:\(port) ssl;
                server_name app.test api.test files.test other.test;
                ssl_certificate \(pair.cert);
                ssl_certificate_key \(pair.key);
                server_tokens off;
            \(routes(headers: true, https: true))
            }
            """
        }
        nginx = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(hardened);
                    server_name app.test api.test files.test;
                    server_tokens off;
                \(routes(headers: true, https: false))
                }
                server {
                    listen 127.0.0.1:\(bare);
                    server_name app.test api.test files.test;
                    server_tokens on;
                \(routes(headers: false, https: false))
                }
                \(tlsServer(tlsGood, good))
                \(tlsServer(tlsExpired, expired))
                \(tlsServer(tlsWrongName, wrongName))
                \(tlsServer(tlsUntrusted, untrusted))
                \(tlsServer(tlsSoon, soon))
                """, waitPort: hardened)
        for port in [bare, tlsGood, tlsExpired, tlsWrongName, tlsUntrusted, tlsSoon] { try Ports.waitListening(port) }
    }

    func reset() async throws {
        try await clearml.control("/reset")
    }

    func scenario(_ scenarios: [String: String]) async throws {
        try await clearml.control("/scenario", scenarios)
    }

    /// A config against this fixture. `ingressPort` is where connect-to points; https switches the public URLs.
    func config(
        ingressPort: Int? = nil, https: Bool = false, timeout: String = "1s", slow: String = "1s",
        direct: Bool = true, extra: String = ""
    ) -> String {
        let scheme = https ? "https" : "http"
        let port = ingressPort ?? hardened
        return """
            probe:
              instance: test
              timeout: \(timeout)
              slow: \(slow)
            ingress:
              web_url: \(scheme)://app.test
              api_url: \(scheme)://api.test
              files_url: \(scheme)://files.test
              connect_to: 127.0.0.1:\(port)
              ca_file: \(certs.caCertificate)
            services:
              apiserver_url: \(direct ? "http://127.0.0.1:\(clearml.port("api"))" : "")
              webserver_url: \(direct ? "http://127.0.0.1:\(clearml.port("web"))" : "")
              fileserver_url: \(direct ? "http://127.0.0.1:\(clearml.port("files"))" : "")
            credentials:
              access_key: PROBEKEY
              secret_key: probe-secret-value
            \(extra)
            """
    }

    func run(_ yaml: String, only: [String] = []) async throws -> Report {
        let loaded = try LoadedConfig.fromYAML(yaml, file: "test.yaml")
        return await Engine(loaded: loaded).run(selection: try Selection(tokens: only))
    }
}
