import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// The foundation checks against a real nginx and the ClearML double: every fault gives the right status, a
/// summary that names it, the right root cause, and a bounded duration.
/// Both suites share one double and one nginx, so they run one test at a time.
@Suite("Ingress and application liveness (real nginx, ClearML double)", .serialized)
enum IngressSuites {}

extension IngressSuites {
    @Suite("Foundation fault matrix")
    struct FoundationFaultMatrixTests {
        let fixture: IngressFixture

        init() async throws {
            fixture = try IngressFixture.get()
            try await fixture.reset()
        }

        func expectBounded(_ report: Report, by seconds: Double, _ comment: Comment? = nil) {
            #expect(report.durationMs < (seconds + 0.5) * 1000, comment)
        }

        @Test("healthy stack: every route, ping and UI step is OK and the report is OK")
        func healthy() async throws {
            let report = try await fixture.run(
                fixture.config(), only: ["ingress.routes", "ingress.headers", "apiserver.ping", "webserver.ui"])
            for result in report.results {
                #expect(result.status == .ok, "\(result.key): \(result.summary)")
            }
            #expect(report.status == .ok)
            #expect(
                Set(report.results.map(\.key)) == [
                    "ingress.routes/web", "ingress.routes/api", "ingress.routes/files",
                    "ingress.headers/web", "ingress.headers/api", "ingress.headers/files",
                    "apiserver.ping", "webserver.ui/index", "webserver.ui/configuration",
                    "webserver.ui/api", "webserver.ui/files",
                ])
            let api = try #require(report.result("ingress.routes/api"))
            #expect(api.timings["total_ms"] ?? 0 > 0)
            #expect(api.timings["connect_ms"] != nil && api.timings["first_byte_ms"] != nil)
            #expect(report.result("apiserver.ping")?.summary.hasPrefix("debug.ping: 200 in") == true)
        }

        @Test("ingress refuses connections: every route critical, named, and nginx is the root cause")
        func ingressRefused() async throws {
            let report = try await fixture.run(
                fixture.config(ingressPort: Ports.closed()), only: ["ingress.routes", "apiserver.ping"])
            for route in ["web", "api", "files"] {
                let result = try #require(report.result("ingress.routes/\(route)"))
                #expect(result.status == .critical)
                #expect(result.summary.contains("connection refused"))
                #expect(result.role == .rootCause || result.role == .unconfirmedRootCause)
            }
            #expect(
                report.result("ingress.routes/api")?.role == .rootCause,
                "the apiserver answers directly, so nginx is to blame")
            expectBounded(report, by: 1)
        }

        @Test("ingress accepts and never answers: critical within the deadline")
        func ingressHangs() async throws {
            let report = try await fixture.run(
                fixture.config(ingressPort: fixture.blackholePort, timeout: "600ms"), only: ["ingress.routes"])
            let result = try #require(report.result("ingress.routes/web"))
            #expect(result.status == .critical)
            #expect(result.summary.contains("no answer"))
            expectBounded(report, by: 0.6)
        }

        @Test("a name that never resolves is reported, not hung on")
        func nameDoesNotResolve() async throws {
            var yaml = fixture.config(direct: false)
            yaml = yaml.replacingOccurrences(of: "connect_to: 127.0.0.1:\(fixture.hardened)", with: "connect_to: ''")
            let report = try await fixture.run(yaml, only: ["ingress.routes"])
            let result = try #require(report.result("ingress.routes/web"))
            #expect(result.status == .critical)
            #expect(result.summary.contains("cannot resolve"))
            #expect(result.reachabilityFailure)
            expectBounded(report, by: 1)
        }

        @Test("apiserver down: nginx answers 502, the route is a symptom of apiserver.ping")
        func badGateway() async throws {
            try await fixture.scenario(["api": "down"])
            let report = try await fixture.run(
                fixture.config(), only: ["ingress.routes", "apiserver.ping", "webserver.ui"])
            let route = try #require(report.result("ingress.routes/api"))
            #expect(route.status == .critical)
            #expect(route.summary.contains("502"))
            #expect(route.summary.contains("apiserver"))
            #expect(route.rootCause == "apiserver.ping")
            #expect(report.result("webserver.ui/api")?.rootCause == "apiserver.ping")
            #expect(report.rootCauses == ["apiserver.ping"])
            #expect(report.result("apiserver.ping")?.summary.contains("connection refused") == true)
            #expect(report.result("ingress.routes/web")?.status == .ok)
            #expect(report.status == .critical)
        }

        @Test("apiserver hangs: nginx answers 504, the direct ping times out within its deadline")
        func gatewayTimeout() async throws {
            try await fixture.scenario(["api": "hang"])
            let report = try await fixture.run(
                fixture.config(timeout: "2s"), only: ["ingress.routes", "apiserver.ping"])
            let route = try #require(report.result("ingress.routes/api"))
            #expect(route.status == .critical)
            #expect(route.summary.contains("504"))
            let ping = try #require(report.result("apiserver.ping"))
            #expect(ping.status == .critical)
            #expect(ping.summary.contains("no answer"))
            #expect(route.rootCause == "apiserver.ping")
            expectBounded(report, by: 2)
        }

        @Test("apiserver answers slowly: a warning that says slow, not an outage")
        func slow() async throws {
            try await fixture.scenario(["api": "slow:400"])
            let report = try await fixture.run(fixture.config(timeout: "2s", slow: "200ms"), only: ["apiserver.ping"])
            let ping = try #require(report.result("apiserver.ping"))
            #expect(ping.status == .warning)
            #expect(ping.summary.contains("slow"))
            #expect(report.status == .warning)
        }

        @Test("200 with a body that is not ClearML: critical, says what it expected")
        func garbage() async throws {
            try await fixture.scenario(["api": "garbage"])
            let report = try await fixture.run(fixture.config(), only: ["ingress.routes", "apiserver.ping"])
            let ping = try #require(report.result("apiserver.ping"))
            #expect(ping.status == .critical)
            #expect(ping.summary.contains("not the apiserver's debug.ping envelope"))
            #expect(ping.evidence != nil)
            #expect(report.result("ingress.routes/api")?.rootCause == "apiserver.ping")
        }

        @Test("apiserver 5xx: critical with the status named")
        func serverError() async throws {
            try await fixture.scenario(["api": "5xx"])
            let report = try await fixture.run(fixture.config(), only: ["apiserver.ping"])
            let ping = try #require(report.result("apiserver.ping"))
            #expect(ping.status == .critical)
            #expect(ping.summary.contains("500"))
        }

        @Test(
            "the webserver's /api proxy fails while the apiserver answers directly: the path between them is the root cause"
        )
        func webserverProxyBroken() async throws {
            try await fixture.scenario(["web": "api_proxy_down"])
            let report = try await fixture.run(fixture.config(), only: ["apiserver.ping", "webserver.ui"])
            let proxy = try #require(report.result("webserver.ui/api"))
            #expect(proxy.status == .critical)
            #expect(proxy.summary.contains("502"))
            #expect(proxy.role == .rootCause)
            #expect(report.result("apiserver.ping")?.status == .ok)
            #expect(report.result("webserver.ui/index")?.status == .ok)
        }

        @Test("webserver down: its steps are symptoms of its UI page, the web route a symptom too")
        func webserverDown() async throws {
            try await fixture.scenario(["web": "down"])
            let report = try await fixture.run(
                fixture.config(), only: ["ingress.routes", "apiserver.ping", "webserver.ui"])
            #expect(report.rootCauses == ["webserver.ui/index"])
            #expect(report.result("webserver.ui/configuration")?.rootCause == "webserver.ui/index")
            #expect(report.result("ingress.routes/web")?.rootCause == "webserver.ui/index")
            #expect(report.result("ingress.routes/web")?.summary.contains("502") == true)
        }

        @Test("security headers missing and a version in Server: warnings naming each header")
        func headersMissing() async throws {
            let report = try await fixture.run(fixture.config(ingressPort: fixture.bare), only: ["ingress.headers"])
            // The api route: the webserver adds some headers of its own to the UI (docs/clearml-api.md, "Calls"), the apiserver none.
            let web = try #require(report.result("ingress.headers/api"))
            #expect(web.status == .warning)
            #expect(web.summary.contains("X-Content-Type-Options"))
            #expect(web.summary.contains("Referrer-Policy"))
            #expect(web.summary.contains("frame policy"))
            #expect(web.summary.contains("Server header without version"))
            #expect(report.status == .warning)
        }
    }

    @Suite("TLS fault matrix (test CA)")
    struct TLSFaultMatrixTests {
        let fixture: IngressFixture

        init() async throws {
            fixture = try IngressFixture.get()
            try await fixture.reset()
        }

        func tls(_ port: Int) async throws -> Report {
            try await fixture.run(
                fixture.config(ingressPort: port, https: true),
                only: ["ingress.tls", "ingress.routes", "ingress.headers"])
        }

        @Test(
            "a good certificate: OK with days left; routes work over TLS with connect-to and the CA file; HSTS present")
        func good() async throws {
            let report = try await tls(fixture.tlsGood)
            let result = try #require(report.result("ingress.tls/web"))
            #expect(result.status == .ok, "\(result.summary)")
            #expect((result.metrics["leaf_expiry_seconds"] ?? 0) > 80 * 86400)
            #expect(report.result("ingress.routes/api")?.status == .ok)
            #expect(report.result("ingress.routes/web")?.timings["tls_ms"] ?? 0 > 0)
            #expect(report.result("ingress.headers/web")?.status == .ok)
            // One TLS result per distinct host:port of the public URLs.
            #expect(report.results.filter { $0.id == .ingressTLS }.count == 3)
        }

        @Test("an expired certificate: critical, says expired, shows the dates")
        func expired() async throws {
            let report = try await tls(fixture.tlsExpired)
            let result = try #require(report.result("ingress.tls/web"))
            #expect(result.status == .critical)
            #expect(result.summary.contains("expired"))
            #expect(result.evidence?.contains("valid") == true)
            // One finding, not three: each route's handshake failure (and so its headers) is a symptom of its own
            // certificate's result; only ingress.tls results are root causes.
            for route in ["web", "api", "files"] {
                #expect(report.result("ingress.routes/\(route)")?.rootCause == "ingress.tls/\(route)")
                #expect(report.result("ingress.headers/\(route)")?.rootCause == "ingress.tls/\(route)")
            }
            #expect(report.rootCauses.allSatisfy { $0.hasPrefix("ingress.tls/") })
        }

        @Test("a certificate for another name: critical, says it does not name this host")
        func wrongName() async throws {
            let report = try await tls(fixture.tlsWrongName)
            let result = try #require(report.result("ingress.tls/web"))
            #expect(result.status == .critical)
            #expect(result.summary.contains("does not name this host"))
        }

        @Test("an untrusted certificate: critical, says not trusted")
        func untrusted() async throws {
            let report = try await tls(fixture.tlsUntrusted)
            let result = try #require(report.result("ingress.tls/web"))
            #expect(result.status == .critical)
            #expect(result.summary.contains("not signed by a trusted CA"))
        }

        @Test("a certificate expiring in 10 days: warning with the date")
        func expiringSoon() async throws {
            let report = try await tls(fixture.tlsSoon)
            let result = try #require(report.result("ingress.tls/web"))
            #expect(result.status == .warning)
            #expect(result.summary.contains("expires in"))
        }

        @Test("plain-HTTP ingress: TLS is reported as not checked, with the reason")
        func plainHTTP() async throws {
            let report = try await fixture.run(fixture.config(), only: ["ingress.tls"])
            #expect(report.results.isEmpty)
            #expect(report.notChecked.first?.reason.contains("plain HTTP") == true)
        }
    }
}
