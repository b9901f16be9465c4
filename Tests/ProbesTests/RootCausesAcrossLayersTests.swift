import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// Whole passes of the engine over every application check (docs/architecture.md, "Topology"): the root cause lands on the right layer.
@Suite(.serialized)
final class RootCausesAcrossLayersTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    /// nginx in front of the double: `broken` proxies to a closed port (502 on everything); `stripping` reaches the
    /// apiserver but clears the Authorization header.
    static let nginx = Result { () throws -> (server: NginxServer, broken: Int, stripping: Int) in
        let double = try fixture.get()
        let broken = Ports.free()
        let stripping = Ports.free()
        let server = try NginxServer(
            httpBlock: """
                    server { listen 127.0.0.1:\(broken); location / { proxy_pass http://127.0.0.1:\(Ports.closed()); } }
                    server { listen 127.0.0.1:\(stripping); location / { proxy_pass http://127.0.0.1:\(double.double.port("api")); proxy_set_header Authorization ""; } }
                """, waitPort: stripping)
        return (server, broken, stripping)
    }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    static let allChecks = ClearMLDoubleFixture.allChecks

    func run(_ loaded: LoadedConfig? = nil, extra: [CheckResult] = []) async throws -> Report {
        let report = await clearml.run(
            try loaded ?? clearml.loaded(checks: Self.allChecks), only: ClearMLDoubleFixture.allCheckIDs)
        return Report(
            startedAt: report.startedAt, durationMs: report.durationMs, results: report.results + extra,
            notChecked: report.notChecked)
    }

    @Test func mongoErrorsAtLoginWhileMongoChecksFailMakeMongoTheRootCause() async throws {
        try await clearml.scenario(api: "mongo_down:200")
        let mongo = CheckResult(id: .mongoPing, status: .critical, summary: "connection refused at mongo:27017")
        let report = try await run(extra: [mongo])
        #expect(report.rootCauses == ["mongo.ping"], "\(report.rootCauses) \(TextReport(colour: false).render(report))")
        #expect(report.result("apiserver.auth/direct")?.summary.contains("500/1") == true)
        for key in [
            "apiserver.auth/direct", "apiserver.auth/ingress", "agents.workers/services", "queues.backlog/services",
        ] {
            #expect(report.result(key)?.rootCause == "mongo.ping", "\(key)")
        }
        #expect(report.result("apiserver.ping")?.status == .ok)
    }

    @Test func fileserverRejectingTokensWhileAuthWorksIsTheFileserversValidation() async throws {
        try await clearml.scenario(files: "token_rejected")
        let report = try await run()
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        #expect(report.rootCauses == ["fileserver.roundtrip/direct"], "\(TextReport(colour: false).render(report))")
        #expect(report.result("fileserver.roundtrip/direct")?.summary.contains("token validation path") == true)
    }

    @Test func webserversApiProxyFailingWhileApiserverAnswersIsThePathBetweenThem() async throws {
        try await clearml.scenario(web: "api_proxy_down")
        let report = try await run()
        #expect(report.result("apiserver.ping")?.status == .ok)
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        let proxy = try #require(report.result("webserver.ui/api"))
        #expect(proxy.status == .critical && proxy.summary.contains("502"))
        #expect(proxy.role == .rootCause)
        #expect(report.rootCauses.contains("webserver.ui/api"))
        // The ingress stand-in is the same webserver here, so its api paths fail too, and nothing else.
        for key in report.rootCauses {
            #expect(["webserver.ui/api", "apiserver.auth/ingress", "ingress.routes/api"].contains(key), "\(key)")
        }
    }

    @Test func everythingBehindNginxFailingWhileDirectChecksWorkIsNginx() async throws {
        let nginx = try Self.nginx.get()
        let ingress = "http://127.0.0.1:\(nginx.broken)"
        let loaded = try clearml.loaded(checks: Self.allChecks, apiIngress: ingress, filesIngress: ingress)
        let report = try await run(loaded)
        let text = TextReport(colour: false).render(report)
        #expect(!report.rootCauses.isEmpty)
        for key in report.rootCauses {
            #expect(report.result(key)?.service == .nginx, "\(key) is a root cause outside nginx:\n\(text)")
        }
        for key in ["apiserver.auth/direct", "fileserver.roundtrip/direct", "apiserver.ping", "webserver.ui/index"] {
            #expect(report.result(key)?.status == .ok, "\(key)")
        }
        #expect(report.result("apiserver.auth/ingress")?.summary.contains("502") == true)
        #expect(report.result("fileserver.roundtrip/ingress")?.summary.contains("502") == true)
    }

    @Test func anIngressThatDropsAuthorizationIsNamed() async throws {
        let nginx = try Self.nginx.get()
        let loaded = try clearml.loaded(
            checks: "  apiserver.auth: {}", apiIngress: "http://127.0.0.1:\(nginx.stripping)")
        let report = await clearml.run(loaded, only: [.apiserverAuth])
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        let ingress = try #require(report.result("apiserver.auth/ingress"))
        #expect(ingress.status == .critical)
        #expect(
            ingress.summary.contains("401/20") && ingress.summary.contains("drops the Authorization header"),
            "\(ingress.summary)")
        #expect(ingress.role == .rootCause && ingress.service == .nginx)
    }
}
