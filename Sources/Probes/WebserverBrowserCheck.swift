import Foundation
import NativeClients
import ProbeCore

/// `webserver.browser`: what a browser needs beyond the page itself, which `webserver.ui` does not see.
///
/// - `cors-api`, `cors-files`: a CORS preflight from the web origin (`OPTIONS` with `Origin`,
///   `Access-Control-Request-Method: POST`) to the api and files hosts, when they are other origins than the UI. The
///   UI calls the API with credentials (the login cookie), so the api host must allow the web origin by name and
///   `Access-Control-Allow-Credentials: true` (the apiserver echoes the origin with credentials). The fileserver's own
///   default is `cors.origins: "*"` without credentials, so the files host must allow the origin (`*` or by name).
/// - `configuration`: the addresses in the webserver's `configuration.json` (`apiBaseUrl`, `fileBaseUrl`) answer like
///   the apiserver (`debug.ping`) and the fileserver (`GET /` → `OK`). Unset fields are derived by the UI: nothing to check.
/// - `asset`: the first `<script src>` of the UI page (resolved against its `<base href>`, as a browser does) is served
///   as a script: not 404, and not the index page that the webserver's `try_files` falls back to.
///
/// Cost per run: 2 preflights, 1 `configuration.json`, at most 2 address probes, 1 index page, 1 `HEAD` of the asset.
public struct WebserverBrowserCheck: Check {
    /// The UI's address as the browser has it (the web host, else the webserver).
    public var web: URL
    public var webViaIngress: Bool
    /// `scheme://host[:port]` of the UI, sent as `Origin`.
    public var origin: String

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let origin = try options.nonEmptyString("origin")
        guard let web = config.ingress.web ?? config.services.webserver else {
            return .notConfigured("no web address (set CLEARML_WEB_HOST or CLEARML_PROBE_WEBSERVER_URL)")
        }
        if let origin, Self.origin(of: URL(string: origin)) != origin || !(URL(string: origin)?.path ?? "x").isEmpty {
            throw options.error(key: "origin", "'\(origin)' is not an origin (scheme://host[:port], no path)")
        }
        return .ready(
            WebserverBrowserCheck(
                web: web, webViaIngress: config.ingress.web != nil,
                origin: origin ?? Self.origin(of: web) ?? web.absoluteString))
    }

    public init(web: URL, webViaIngress: Bool, origin: String) {
        self.web = web
        self.webViaIngress = webViaIngress
        self.origin = origin
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .webserverBrowser)
        async let corsAPI = cors(.api, context, builder)
        async let corsFiles = cors(.files, context, builder)
        async let configuration = configuration(context, builder)
        async let asset = asset(context, builder)
        return await [corsAPI, corsFiles, configuration, asset].compactMap { $0 }
    }

    // MARK: CORS

    enum Host: String { case api, files }

    func cors(_ host: Host, _ context: CheckContext, _ builder: ResultBuilder) async -> CheckResult? {
        guard let base = host == .api ? context.config.ingress.api : context.config.ingress.files,
            Self.origin(of: base) != origin
        else { return nil }  // same origin (or no public host): no CORS involved
        let target = "cors-\(host.rawValue)"
        let upstream: Service = host == .api ? .apiserver : .fileserver
        let dependsOn: [Dependency] = [.result("ingress.routes/\(host.rawValue)"), .service(upstream)]
        let url = host == .api ? base.appendingPathComponent("auth.login") : base.appendingPathComponent("")
        let request = context.ingressRequest(
            method: "OPTIONS", url: url,
            headers: [
                ("Origin", origin), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ])
        let place = HTTPWords.place(base, connectTo: context.config.ingress.connectTo)
        let what = "the browser's preflight from \(origin) to the \(host.rawValue) host \(base.host ?? "?")"
        switch await context.send(request) {
        case .failure(let failure):
            return builder.result(
                target: target, service: .nginx, status: .critical,
                summary: "\(what): " + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                timings: failure.timings, error: context.redact(failure.description), dependsOn: dependsOn,
                reachabilityFailure: failure.isReachability)
        case .success(let response):
            let verdict = Self.judgeCORS(
                status: response.status, allowOrigin: response.header("access-control-allow-origin"),
                allowCredentials: response.header("access-control-allow-credentials"),
                origin: origin, needsCredentials: host == .api)
            let summary = verdict.status == .ok ? "\(what): allowed (\(verdict.words))" : "\(what): \(verdict.words)"
            return builder.result(
                target: target, service: .nginx, status: verdict.status, summary: summary,
                hint: verdict.status == .ok ? nil : Self.corsHint(host, origin: origin),
                metrics: ["status_code": Double(response.status)], timings: response.timings,
                evidence: verdict.status == .ok ? nil : context.redact(Self.headerExcerpt(response)),
                dependsOn: dependsOn)
        }
    }

    /// Pure: what a browser makes of a preflight answer.
    static func judgeCORS(
        status: Int, allowOrigin: String?, allowCredentials: String?, origin: String,
        needsCredentials: Bool
    ) -> (status: Status, words: String) {
        if HTTPWords.isGatewayError(status) {
            return (.critical, "HTTP \(status): the ingress gets no answer from its upstream")
        }
        guard (200...299).contains(status) else {
            return (
                .critical,
                "HTTP \(status) to OPTIONS: the browser blocks every call from the UI (something in front answers the preflight itself)"
            )
        }
        let allowed = allowOrigin?.trimmingCharacters(in: .whitespaces)
        guard let allowed, !allowed.isEmpty else {
            return (.critical, "no Access-Control-Allow-Origin: the browser blocks the UI's calls")
        }
        if needsCredentials {
            guard allowed == origin else {
                return (
                    .critical,
                    allowed == "*"
                        ? "Access-Control-Allow-Origin is '*', which a browser refuses for calls with the login cookie; it must name \(origin)"
                        : "Access-Control-Allow-Origin is '\(allowed)', not \(origin): the browser blocks the UI's calls"
                )
            }
            guard allowCredentials?.trimmingCharacters(in: .whitespaces).lowercased() == "true" else {
                return (
                    .critical,
                    "no Access-Control-Allow-Credentials: true for \(origin): the browser drops the login cookie and the UI cannot log in"
                )
            }
            return (.ok, "origin \(origin) with credentials")
        }
        guard allowed == "*" || allowed == origin else {
            return (
                .critical,
                "Access-Control-Allow-Origin is '\(allowed)', not \(origin) or '*': the browser blocks the UI's uploads and downloads"
            )
        }
        return (.ok, "origin \(allowed)")
    }

    static func corsHint(_ host: Host, origin: String) -> String {
        host == .api
            ? "The apiserver answers a preflight with the request's Origin and Access-Control-Allow-Credentials: true; something in front of it (the ingress, an auth proxy) answers OPTIONS itself or overrides the CORS headers. Let OPTIONS and the Access-Control-* headers through for \(origin)."
            : "The fileserver allows every origin (fileserver.cors.origins \"*\"); something in front of it answers OPTIONS itself or overrides Access-Control-Allow-Origin. Let OPTIONS and the Access-Control-* headers through for \(origin)."
    }

    static func headerExcerpt(_ response: HTTPResponse) -> String {
        let cors = response.headers.filter { $0.name.hasPrefix("access-control-") }.map { "\($0.name): \($0.value)" }
        return Evidence.excerpt(
            "HTTP \(response.status)"
                + (cors.isEmpty ? " (no Access-Control-* headers)" : "; " + cors.joined(separator: "; ")), limit: 240)
    }

    // MARK: configuration.json

    func configuration(_ context: CheckContext, _ builder: ResultBuilder) async -> CheckResult {
        let dependsOn: [Dependency] = [.result(webViaIngress ? "ingress.routes/web" : "webserver.ui/configuration")]
        let configURL = web.appendingPathComponent("configuration.json")
        let place = HTTPWords.place(web, connectTo: webViaIngress ? context.config.ingress.connectTo : nil)
        func result(
            _ status: Status, _ summary: String, hint: String? = nil, dependsOn: [Dependency], evidence: String? = nil,
            reachability: Bool = false, path: Bool = false
        ) -> CheckResult {
            builder.result(
                target: "configuration", service: path ? pathService : nil, status: status,
                summary: "configuration.json: \(summary)", hint: hint,
                evidence: evidence, dependsOn: dependsOn, reachabilityFailure: reachability)
        }
        let response: HTTPResponse
        switch await context.send(request(configURL, context)) {
        case .failure(let failure):
            return result(
                .critical, HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                dependsOn: dependsOn,
                reachability: failure.isReachability, path: true)
        case .success(let answer): response = answer
        }
        guard response.status == 200, let document = JSONValue.parse(response.body), case .object = document else {
            return result(
                .critical,
                "HTTP \(response.status) from \(place) without a JSON object: the UI starts without its settings",
                hint: "See webserver.ui; the webserver writes configuration.json at start from WEBSERVER__* variables.",
                dependsOn: dependsOn, evidence: context.redact(HTTPWords.excerpt(response)), path: true)
        }
        var findings: [Finding] = []
        var checked: [String] = []
        var addressDependencies: [Dependency] = []
        for field in ["apiBaseUrl", "fileBaseUrl"] {
            guard case .string(let raw)? = document[field] else { continue }  // null or absent: the UI derives it
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { continue }
            let isAPI = field == "apiBaseUrl"
            addressDependencies.append(.service(isAPI ? .apiserver : .fileserver))
            guard let base = URL(string: value, relativeTo: web)?.absoluteURL,
                base.scheme == "http" || base.scheme == "https"
            else {
                findings.append(
                    Finding(
                        .critical, "\(field) '\(Evidence.excerpt(value, limit: 80))' is not an http(s) address",
                        hint:
                            "Set WEBSERVER__\(field) to the address the browser reaches (or unset it: the UI derives it)."
                    ))
                continue
            }
            if let problem = await probeAddress(base, api: isAPI, context) {
                findings.append(
                    Finding(
                        .critical,
                        "\(field) \(base.absoluteString) does not answer as the \(isAPI ? "apiserver" : "fileserver") (\(problem)): the UI \(isAPI ? "cannot log in or load anything" : "cannot show plots, debug samples or artifacts")",
                        hint:
                            "Point WEBSERVER__\(field) at the address the browser reaches the \(isAPI ? "api" : "files") host by (or unset it), and restart the webserver."
                    ))
            } else {
                checked.append("\(field) \(base.absoluteString)")
            }
        }
        if let (status, text, hint) = Finding.summarise(findings) {
            return result(status, text, hint: hint, dependsOn: dependsOn + addressDependencies)
        }
        return result(
            .ok,
            checked.isEmpty
                ? "sets no apiBaseUrl or fileBaseUrl: the UI derives them from its own address"
                : checked.joined(separator: " and ") + " answer", dependsOn: dependsOn)
    }

    /// nil when the address answers as the API (`debug.ping`) or the fileserver (`GET /` → `OK`); else what it did.
    func probeAddress(_ base: URL, api: Bool, _ context: CheckContext) async -> String? {
        let url = api ? base.appendingPathComponent("debug.ping") : base.appendingPathComponent("")
        var request = request(url, context)
        if api {
            request.method = "POST"
            request.headers.append(("Content-Type", "application/json"))
            request.body = Data("{}".utf8)
        }
        switch await context.send(request) {
        case .failure(let failure):
            return HTTPWords.failure(
                failure, at: HTTPWords.place(url, connectTo: request.connectTo), timeout: context.settings.timeout)
        case .success(let response):
            guard response.status == 200 else { return "HTTP \(response.status)" }
            if api {
                return ClearMLEnvelope(body: response.body)?.data["msg"]?.string == "ClearML server"
                    ? nil : "200 but not the apiserver's debug.ping"
            }
            return response.text.trimmingCharacters(in: .whitespacesAndNewlines) == "OK"
                ? nil : "200 but not the fileserver's OK"
        }
    }

    // MARK: asset

    func asset(_ context: CheckContext, _ builder: ResultBuilder) async -> CheckResult {
        let dependsOn: [Dependency] = [.result(webViaIngress ? "ingress.routes/web" : "webserver.ui/index")]
        let place = HTTPWords.place(web, connectTo: webViaIngress ? context.config.ingress.connectTo : nil)
        func result(
            _ status: Status, _ summary: String, hint: String? = nil, timings: HTTPTimings? = nil,
            evidence: String? = nil, reachability: Bool = false, path: Bool = false
        ) -> CheckResult {
            builder.result(
                target: "asset", service: path ? pathService : nil, status: status,
                summary: "the UI's assets: \(summary)",
                hint: hint, timings: timings, evidence: evidence, dependsOn: dependsOn,
                reachabilityFailure: reachability)
        }
        let page: HTTPResponse
        switch await context.send(request(web.appendingPathComponent(""), context)) {
        case .failure(let failure):
            return result(
                .critical, "the UI page: " + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                reachability: failure.isReachability, path: true)
        case .success(let answer): page = answer
        }
        guard page.status == 200, HTTPWords.looksLikeHTML(page) else {
            return result(
                .critical, "the UI page at \(place) gave HTTP \(page.status) without HTML", hint: "See webserver.ui.",
                evidence: context.redact(HTTPWords.excerpt(page)), path: true)
        }
        guard let (src, assetURL) = Self.firstScript(in: page.text, pageURL: web.appendingPathComponent("")) else {
            return result(
                .warning, "the UI page at \(place) references no script: it is not ClearML's UI",
                hint: "Check that the web host reaches the webserver.",
                evidence: context.redact(HTTPWords.excerpt(page)))
        }
        var head = request(assetURL, context)
        head.method = "HEAD"
        switch await context.send(head) {
        case .failure(let failure):
            return result(
                .critical, "\(src): " + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                timings: failure.timings, reachability: failure.isReachability)
        case .success(let response):
            let type = response.header("content-type")?.lowercased() ?? ""
            if response.status == 200 && !type.contains("text/html") {
                return result(
                    .ok, "\(src) loads (\(type.isEmpty ? "no content type" : type))", timings: response.timings)
            }
            let why =
                response.status == 200
                ? "\(assetURL.path) gets the index page instead of the script (the webserver falls back to index.html for files it does not have)"
                : "\(assetURL.path) gives HTTP \(response.status)"
            return result(
                .critical, "the UI page references \(src), but \(why): the browser shows a blank page",
                hint:
                    "The page's <base href> and the path the UI is served under differ: serve the UI at the path its base href names (the webserver's CLEARML_SERVER_SUB_PATH and the ingress's location must agree), or the webserver's files are incomplete.",
                timings: response.timings,
                evidence: "HTTP \(response.status) content-type \(type.isEmpty ? "none" : type)")
        }
    }

    /// Pure: the first `<script src>` of a page and where a browser loads it from (relative to `<base href>`).
    static func firstScript(in html: String, pageURL: URL) -> (src: String, url: URL)? {
        let head = String(html.prefix(256 * 1024))
        guard let src = Self.attribute("script", "src", in: head),
            let srcURL = URL(string: src.trimmingCharacters(in: .whitespaces), relativeTo: baseURL(head, pageURL))
        else {
            return nil
        }
        return (src, srcURL.absoluteURL)
    }

    static func baseURL(_ html: String, _ pageURL: URL) -> URL {
        guard let href = attribute("base", "href", in: html), let url = URL(string: href, relativeTo: pageURL) else {
            return pageURL
        }
        return url.absoluteURL
    }

    /// The value of `attribute` in the first `<tag …>` that has it.
    static func attribute(_ tag: String, _ attribute: String, in html: String) -> String? {
        let pattern = "<\(tag)\\b[^>]*?\\s\(attribute)\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s>]+))"
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
            let match = regex.firstMatch(in: html, range: NSRange(html.startIndex..., in: html))
        else { return nil }
        for group in 1...3 {
            if let range = Range(match.range(at: group), in: html) { return String(html[range]) }
        }
        return nil
    }

    // MARK: helpers

    /// The service a failure to get the page or configuration.json at all belongs to: through the ingress it is the
    /// path's (nginx, a symptom of `ingress.routes/web`), never the webserver's, or `ingress.routes/web` (which depends
    /// on the webserver) and these results would depend on each other.
    var pathService: Service? { webViaIngress ? .nginx : nil }

    /// A request the browser's way: through the ingress settings when the URL is one of the public hosts.
    func request(_ url: URL, _ context: CheckContext) -> HTTPRequest {
        let ingress = context.config.ingress
        let publicHosts = [ingress.web, ingress.api, ingress.files].compactMap { $0.flatMap(Self.origin(of:)) }
        if let origin = Self.origin(of: url), publicHosts.contains(origin) {
            return context.ingressRequest(url: url)
        }
        return context.directRequest(url: url)
    }

    /// `scheme://host[:port]` with the default port left out, as browsers write `Origin` (the path is not part of it).
    static func origin(of url: URL?) -> String? {
        guard let url, let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else {
            return nil
        }
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = url.port, port != defaultPort { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(host)"
    }
}
