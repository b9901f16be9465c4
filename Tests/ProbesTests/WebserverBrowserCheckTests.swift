import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `webserver.browser` against the ClearML double (and a real nginx that answers preflights itself): CORS from the
/// web origin to the api and files hosts, configuration.json's addresses, and the UI page's first script.
@Suite(.serialized)
final class WebserverBrowserCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    static let checks = "  webserver.browser: {}\n  webserver.ui: {}\n  apiserver.ping: {}"

    /// The api and files hosts are other origins than the UI (as with app./api./files. subdomains).
    func run(apiIngress: String? = nil, filesIngress: String? = nil, crossOrigin: Bool = true) async throws -> Report {
        let loaded = try clearml.loaded(
            checks: Self.checks, apiIngress: apiIngress ?? (crossOrigin ? clearml.apiURL : nil),
            filesIngress: filesIngress ?? (crossOrigin ? clearml.filesURL : nil))
        return await clearml.run(loaded, only: [.webserverBrowser, .webserverUI, .apiserverPing])
    }

    @Test func aHealthyStackPassesEveryBrowserStep() async throws {
        let report = try await run()
        for target in ["cors-api", "cors-files", "configuration", "asset"] {
            let result = try #require(report.result("webserver.browser/\(target)"), "no \(target) result")
            #expect(result.status == .ok, "\(target): \(result.summary)")
        }
        #expect(report.result("webserver.browser/cors-api")?.summary.contains("with credentials") == true)
        #expect(report.result("webserver.browser/configuration")?.summary.contains("derives") == true)
        #expect(try await clearml.count("web", "asset") == 1, "one HEAD of the first script, nothing else")
        let preflights = try await clearml.double.control("/requests", method: "GET") as? [[String: Any]] ?? []
        let options = preflights.filter { $0["method"] as? String == "OPTIONS" }
        #expect(options.count == 2)
        #expect(options.allSatisfy { ($0["headers"] as? [String: String])?["Origin"] == clearml.webURL })
    }

    @Test func sameOriginHostsNeedNoPreflight() async throws {
        let report = try await run(crossOrigin: false)  // api and files through the webserver's own /api and /files
        #expect(report.result("webserver.browser/cors-api") == nil)
        #expect(report.result("webserver.browser/cors-files") == nil)
        #expect(report.result("webserver.browser/asset")?.status == .ok)
    }

    @Test func anAPIHostAllowingEveryOriginWithoutCredentialsIsNamed() async throws {
        // Something answering for the api host the fileserver's way ('*', no credentials) blocks the UI's logged-in calls.
        let report = try await run(apiIngress: clearml.filesURL)
        let cors = try #require(report.result("webserver.browser/cors-api"))
        #expect(cors.status == .critical)
        #expect(cors.summary.contains("'*'") && cors.summary.contains("127.0.0.1"), "\(cors.summary)")
        #expect(cors.service == .nginx)
        #expect(report.result("webserver.browser/cors-files")?.status == .ok)
    }

    @Test func configurationAddressesThatAnswerAreOK() async throws {
        try await clearml.scenario(web: "configuration_proxies")
        let result = try #require(try await run().result("webserver.browser/configuration"))
        #expect(result.status == .ok, "\(result.summary)")
        #expect(
            result.summary.contains("apiBaseUrl \(clearml.webURL)/api") && result.summary.contains("fileBaseUrl"),
            "\(result.summary)")
    }

    @Test func configurationAddressesThatDoNotAnswerAreTheWebserversRootCause() async throws {
        try await clearml.scenario(web: "configuration_unreachable")
        // The apiserver and the fileserver are checked too: the addresses' services work, so the address is to blame.
        let loaded = try clearml.loaded(
            checks: Self.checks + "\n  fileserver.roundtrip: {}", apiIngress: clearml.apiURL,
            filesIngress: clearml.filesURL)
        let report = await clearml.run(
            loaded, only: [.webserverBrowser, .webserverUI, .apiserverPing, .fileserverRoundtrip])
        let result = try #require(report.result("webserver.browser/configuration"))
        #expect(result.status == .critical)
        #expect(result.summary.contains("apiBaseUrl http://127.0.0.1:9/api does not answer"), "\(result.summary)")
        #expect(result.summary.contains("fileBaseUrl http://127.0.0.1:9/files"), "\(result.summary)")
        #expect(result.hint?.contains("WEBSERVER__apiBaseUrl") == true)
        #expect(result.role == .rootCause, "\(result.role)")
        #expect(report.rootCauses == ["webserver.browser/configuration"])
    }

    @Test func aMissingBundleServedAsThePageIsABlankUI() async throws {
        try await clearml.scenario(web: "assets_missing")
        let report = try await run()
        let asset = try #require(report.result("webserver.browser/asset"))
        #expect(asset.status == .critical)
        #expect(asset.summary.contains("main-4NB3F7QX.js") || asset.summary.contains("polyfills"), "\(asset.summary)")
        #expect(asset.summary.contains("index page instead of the script"), "\(asset.summary)")
        #expect(report.result("webserver.ui/index")?.status == .ok)
        #expect(report.rootCauses == ["webserver.browser/asset"])
    }

    @Test func theApiserverDownMakesThePreflightASymptom() async throws {
        try await clearml.scenario(api: "down")
        let report = try await run()
        let cors = try #require(report.result("webserver.browser/cors-api"))
        #expect(cors.status == .critical)
        #expect(cors.role == .symptom, "\(cors.role)")
        #expect(!report.rootCauses.contains("webserver.browser/cors-api"))
    }

    /// A real nginx in front of the apiserver that answers OPTIONS itself (a common snippet): no CORS headers reach
    /// the browser, every call from the UI is blocked, while the API itself answers through the same nginx.
    @Test func anIngressAnsweringPreflightsItselfIsTheIngressRootCause() async throws {
        let port = Ports.free()
        let nginx = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        if ($request_method = OPTIONS) { return 204; }
                        proxy_pass http://127.0.0.1:\(clearml.double.port("api"));
                    }
                }
                """, waitPort: port)
        defer { nginx.stop() }
        let loaded = try clearml.loaded(
            checks: Self.checks + "\n  ingress.routes: {routes: [api]}",
            apiIngress: "http://127.0.0.1:\(port)", filesIngress: clearml.filesURL)
        let report = await clearml.run(loaded, only: [.webserverBrowser, .webserverUI, .apiserverPing, .ingressRoutes])
        #expect(report.result("ingress.routes/api")?.status == .ok)
        let cors = try #require(report.result("webserver.browser/cors-api"))
        #expect(cors.status == .critical)
        #expect(
            cors.summary.contains("no Access-Control-Allow-Origin") && cors.summary.contains("127.0.0.1"),
            "\(cors.summary)")
        #expect(cors.evidence?.contains("no Access-Control-* headers") == true, "\(cors.evidence ?? "")")
        #expect(report.rootCauses == ["webserver.browser/cors-api"])
        #expect(cors.service == .nginx)
    }

    /// The UI's address answers nothing. Through the ingress the page's and configuration.json's failures are the
    /// path's (nginx), symptoms of `ingress.routes/web`; straight to the webserver they are the webserver's.
    @Test(arguments: [true, false])
    func aFailingBrowserPathNamesTheServiceOnIt(_ viaIngress: Bool) async throws {
        let closed = "http://127.0.0.1:\(Ports.free())"
        var yaml = clearml.yaml(
            checks: "  webserver.browser: {}\n  ingress.routes: {routes: [web]}", apiIngress: clearml.apiURL,
            filesIngress: clearml.filesURL)
        yaml =
            viaIngress
            ? yaml.replacingOccurrences(of: "ingress:\n", with: "ingress:\n  web_url: \(closed)\n")
            : yaml.replacingOccurrences(of: "webserver_url: \(clearml.webURL)", with: "webserver_url: \(closed)")
        let loaded = try LoadedConfig.fromYAML(yaml, file: "test.yaml")
        let report = await clearml.run(loaded, only: [.webserverBrowser, .ingressRoutes])
        for target in ["configuration", "asset"] {
            let result = try #require(report.result("webserver.browser/\(target)"), "no \(target) result")
            #expect(result.status == .critical, "\(target): \(result.summary)")
            #expect(result.summary.contains("connection refused"), "\(target): \(result.summary)")
            #expect(result.service == (viaIngress ? .nginx : .webserver), "\(target): \(result.service)")
            if viaIngress {
                #expect(result.rootCause == "ingress.routes/web", "\(target): \(result.rootCause ?? "none")")
            }
        }
        if !viaIngress { #expect(report.result("ingress.routes/web") == nil) }
    }

    @Test func readOnlyRunsIt() async throws {
        let loaded = try clearml.loaded(checks: Self.checks, apiIngress: clearml.apiURL, filesIngress: clearml.filesURL)
        let report = await clearml.run(loaded, only: [.webserverBrowser], readOnly: true)
        #expect(report.result("webserver.browser/asset")?.status == .ok, "it only reads")
    }

    // MARK: pure parts

    @Test(
        arguments: [
            (200, "https://app.test", "true", true, Status.ok),
            (204, "https://app.test", "true", true, .ok),
            (200, "*", "true", true, .critical),
            (200, "https://other.test", "true", true, .critical),
            (200, "https://app.test", nil, true, .critical),
            (200, nil, nil, true, .critical),
            (405, nil, nil, true, .critical),
            (502, nil, nil, true, .critical),
            (200, "*", nil, false, .ok),
            (200, "https://app.test", nil, false, .ok),
            (200, "https://other.test", nil, false, .critical),
            (200, nil, nil, false, .critical),
        ] as [(Int, String?, String?, Bool, Status)])
    func preflightVerdicts(
        _ status: Int, _ allowOrigin: String?, _ credentials: String?, _ needsCredentials: Bool, _ expected: Status
    ) {
        let verdict = WebserverBrowserCheck.judgeCORS(
            status: status, allowOrigin: allowOrigin, allowCredentials: credentials,
            origin: "https://app.test", needsCredentials: needsCredentials)
        #expect(verdict.status == expected, "\(verdict.words)")
    }

    @Test func theFirstScriptIsResolvedAgainstTheBaseHref() throws {
        let page = URL(string: "https://app.test/")!
        let html =
            "<html><head><base href='/clearml/'><SCRIPT type=module src=\"main-X.js\"></SCRIPT><script src='b.js'></script>"
        let (src, url) = try #require(WebserverBrowserCheck.firstScript(in: html, pageURL: page))
        #expect(src == "main-X.js")
        #expect(url.absoluteString == "https://app.test/clearml/main-X.js")
        #expect(WebserverBrowserCheck.firstScript(in: "<script>inline()</script>", pageURL: page) == nil)
        let absolute = try #require(
            WebserverBrowserCheck.firstScript(in: "<script src=//cdn.test/x.js></script>", pageURL: page))
        #expect(absolute.url.absoluteString == "https://cdn.test/x.js")
    }

    @Test func originsLeaveOutDefaultPortsAndPaths() {
        #expect(WebserverBrowserCheck.origin(of: URL(string: "https://App.test:443/x")) == "https://app.test")
        #expect(WebserverBrowserCheck.origin(of: URL(string: "http://127.0.0.1:8080/api")) == "http://127.0.0.1:8080")
        #expect(WebserverBrowserCheck.origin(of: URL(string: "/relative")) == nil)
    }

    @Test func aBadOriginOptionIsRefused() throws {
        #expect(throws: ConfigError.self) {
            try clearml.loaded(checks: "  webserver.browser: {origin: 'https://app.test/path'}")
        }
        let loaded = try clearml.loaded(checks: "  webserver.browser: {origin: 'https://app.test'}")
        let check = try #require(loaded.checks.first { $0.id == .webserverBrowser })
        guard case .ready(let ready) = check.plan, let browser = ready as? WebserverBrowserCheck else {
            Issue.record("not ready")
            return
        }
        #expect(browser.origin == "https://app.test")
    }
}
