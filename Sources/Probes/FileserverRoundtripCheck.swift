import Foundation
import NativeClients
import ProbeCore

/// `fileserver.roundtrip`: upload random bytes to `.clearml-probe/<instance>/<target>-<unique>.bin` (multipart, the
/// field name is the path), download and compare, `DELETE`, expect 404 after. No other path is ever touched and
/// `/delete_many` (recursive) is never called. Direct and through the ingress, as separate targets.
///
/// Tokens: the fileserver caches a token it validated for 12 h (Redis db 8), so a reused token proves storage only.
/// Every `fresh_token_every` (plus up to `fresh_token_jitter`) the check uses a token the fileserver has not seen, which
/// it must validate with the apiserver: that proves the validation path too (and adds one key to Redis db 8).
///
/// Before any upload the check asks `debug.ping` itself (one cheap request that touches no database): the checks of a
/// pass run concurrently, so reading `apiserver.ping`'s result would need an ordering the engine does not have. No
/// upload when the apiserver does not answer. When login fails, the last token is used (that still tests storage)
/// and the result is a symptom of `apiserver.auth`.
public struct FileserverRoundtripCheck: Check {
    public struct Target: Sendable {
        public var name: String
        public var base: URL
        public var viaIngress: Bool
    }

    public var credentials: ProbeConfig.Credentials
    public var targets: [Target]
    public var size: Int
    public var freshEvery: Double
    public var freshJitter: Double
    /// The login cookie the web UI sends instead of an Authorization header (apiserver
    /// `auth.session_auth_cookie_name`; the fileserver must list it in `fileserver.auth.cookie_names`).
    public var cookieName: String = "clearml_token_basic"

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let size = try options.int("size_bytes", default: 4096, range: 1...(64 * 1024 * 1024))
        let freshEvery = try options.duration("fresh_token_every", default: 600, minimum: 0.1)
        let freshJitter = try options.duration("fresh_token_jitter", default: 300)
        let cookieName = try options.string("cookie_name", default: "clearml_token_basic")
        guard !cookieName.isEmpty,
            cookieName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw options.error(key: "cookie_name", "'\(cookieName)' is not a cookie name (letters, digits, - _ .)")
        }
        if let credentials = config.credentials, freshEvery + freshJitter + 60 > credentials.tokenLifetime {
            throw options.error(
                key: "fresh_token_every",
                "fresh_token_every + fresh_token_jitter must stay a minute under "
                    + "credentials.token_lifetime (\(Durations.format(seconds: credentials.tokenLifetime))): the fileserver reuses the token that long"
            )
        }
        guard let credentials = config.credentials else {
            return .notConfigured(
                "no credentials (set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY): the fileserver needs a token")
        }
        guard !ClearMLEndpoint.all(config).isEmpty else {
            return .notConfigured(
                "no apiserver address to get a token from (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        var targets: [Target] = []
        if let url = config.services.fileserver { targets.append(Target(name: "direct", base: url, viaIngress: false)) }
        if let url = config.ingress.files { targets.append(Target(name: "ingress", base: url, viaIngress: true)) }
        guard !targets.isEmpty else {
            return .notConfigured("no fileserver address (set CLEARML_PROBE_FILESERVER_URL or CLEARML_FILES_HOST)")
        }
        var check = FileserverRoundtripCheck(
            credentials: credentials, targets: targets, size: size,
            freshEvery: freshEvery, freshJitter: freshJitter)
        check.cookieName = cookieName
        return .ready(check)
    }

    /// The token for this run and what it proves.
    struct TokenChoice {
        var token: TokenStore.Token?
        /// The fileserver has not seen it: it must validate it with the apiserver.
        var fresh: Bool
        /// The login failed; `token` is the last one still valid, if any.
        var loginProblem: ClearMLProblem?
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let started = ResultBuilder(id: .fileserverRoundtrip)
        let endpoints = ClearMLEndpoint.all(context.config)
        let pingBudget = min(1, context.settings.timeout * 0.25)
        var pinged = false
        for endpoint in endpoints where !pinged {
            pinged = await ClearMLCall.ping(endpoint, context, budget: pingBudget / Double(endpoints.count)) == true
        }
        guard pinged else {
            let place = endpoints.map { $0.place(context.config) }.joined(separator: " or ")
            return notTried(
                targets.map { target in
                    started.result(
                        target: target.name, service: service(target), status: .unknown,
                        summary:
                            "not tried: the apiserver does not answer debug.ping at \(place), and the fileserver needs it to validate tokens",
                        hint: "See apiserver.ping; no upload is made while the apiserver is down.",
                        dependsOn: [.service(.apiserver)] + pathDependencies(target))
                }, context, started)
        }

        let choice = await chooseToken(context)
        var redactor = await ClearMLSession.redactor(context, credentials: credentials)
        guard let token = choice.token else {
            let why = choice.loginProblem?.summary ?? "auth.login gave none"
            return notTried(
                targets.map { target in
                    started.result(
                        target: target.name, service: service(target), status: .unknown,
                        summary: "not tried: no token for the fileserver (\(why))",
                        hint: "See apiserver.auth; the roundtrip runs again once the probe can log in.",
                        dependsOn: [.check(.apiserverAuth)] + pathDependencies(target))
                }, context, started)
        }
        redactor = redactor.adding([token.value])

        var results: [CheckResult] = []
        var accepted = false
        for (index, target) in targets.enumerated() {
            // Each target gets its share of what is left, so a hanging direct path leaves time for the ingress.
            let share = context.remaining / Double(targets.count - index)
            var bounded = context
            bounded.deadline = .now + .milliseconds(Int(share * 1000))
            let outcome = await roundtrip(target, token: token, choice: choice, context: bounded, redactor: redactor)
            accepted = accepted || outcome.uploaded
            results.append(outcome.result)
            if let webProxy = outcome.webProxy { results.append(webProxy) }
        }
        if context.config.services.webserver != nil, targets.contains(where: { !$0.viaIngress }),
            !results.contains(where: { $0.target == Self.webProxyTarget })
        {
            results.append(
                started.result(
                    target: Self.webProxyTarget, service: .webserver, status: .unknown,
                    summary:
                        "not tried: the direct roundtrip did not get as far as a file to read through the webserver's /files/ proxy",
                    hint: "See fileserver.roundtrip/direct.", dependsOn: Self.notTriedDependencies(results)))
        }
        if accepted {
            // The fileserver has now validated and cached this token; the next unseen one is due after the interval.
            let known = await context.state.tokens.fileserverToken()
            let due =
                choice.fresh || known == nil
                ? Date().addingTimeInterval(freshEvery + Double.random(in: 0...max(0, freshJitter)))
                : known!.freshDue
            await context.state.tokens.setFileserverToken(token, freshDue: due)
        }
        return results
    }

    /// Results of a run that did not upload, plus the web-proxy read's "not tried" when it would have run.
    func notTried(_ results: [CheckResult], _ context: CheckContext, _ builder: ResultBuilder) -> [CheckResult] {
        guard context.config.services.webserver != nil, targets.contains(where: { !$0.viaIngress }) else {
            return results
        }
        return results + [
            builder.result(
                target: Self.webProxyTarget, service: .webserver, status: .unknown,
                summary: "not tried: no file was uploaded to read through the webserver's /files/ proxy",
                hint: "See fileserver.roundtrip/direct.", dependsOn: Self.notTriedDependencies(results))
        ]
    }

    /// A web-proxy read that was not tried depends on what stopped the direct roundtrip: the direct result and its
    /// own dependencies (an UNKNOWN direct result is no proof of anything, so its causes are named too).
    static func notTriedDependencies(_ results: [CheckResult]) -> [Dependency] {
        let direct = results.first { $0.target == "direct" }
        return unique([.result("\(CheckID.fileserverRoundtrip.rawValue)/direct")] + (direct?.dependsOn ?? []))
    }

    /// The fileserver's own token until an unseen one is due; then the session's current token if the fileserver has
    /// not seen it, else a new login. When login fails: the fileserver's token, or the session's last one.
    func chooseToken(_ context: CheckContext) async -> TokenChoice {
        let tokens = context.state.tokens
        let known = await tokens.fileserverToken()
        if let known, Date() < known.freshDue {
            return TokenChoice(token: known.token, fresh: false)
        }
        var grant = await ClearMLSession.grant(context, credentials: credentials, share: 0.4)
        if !grant.loginFailed, let token = grant.token, token == known?.token {
            grant = await ClearMLSession.grant(context, credentials: credentials, share: 0.4, force: true)
        }
        if let problem = grant.login?.problem {
            let last = known?.token ?? grant.token
            return TokenChoice(token: last, fresh: false, loginProblem: problem)
        }
        guard let token = grant.token else { return TokenChoice(token: nil, fresh: false) }
        return TokenChoice(token: token, fresh: token != known?.token)
    }

    func service(_ target: Target) -> Service { target.viaIngress ? .nginx : .fileserver }

    /// Through the ingress, a failure the fileserver also shows directly is a symptom of it.
    func pathDependencies(_ target: Target) -> [Dependency] { target.viaIngress ? [.service(.fileserver)] : [] }

    // MARK: one target

    struct Outcome {
        var result: CheckResult
        var uploaded: Bool
        /// The same file through the webserver's `/files/` proxy with the cookie (direct target only).
        var webProxy: CheckResult?
    }

    /// The target of the read through the webserver's `/files/` proxy, as the UI loads files from its own origin.
    static let webProxyTarget = "web-proxy"

    /// A step that did not go as expected.
    struct StepFailure: Error {
        var status: Status
        var summary: String
        var hint: String?
        var dependsOn: [Dependency] = []
        var reachability = false
        var error: String?
        var evidence: String?
    }

    func roundtrip(
        _ target: Target, token: TokenStore.Token, choice: TokenChoice, context: CheckContext,
        redactor: Redactor
    ) async -> Outcome {
        let builder = ResultBuilder(id: .fileserverRoundtrip)
        let path = ".clearml-probe/\(context.config.instance)/\(target.name)-\(UUID().uuidString.lowercased()).bin"
        let content = Data((0..<size).map { _ in UInt8.random(in: 0...255) })
        let fileURL = target.base.appendingPathComponent(path)
        let place =
            target.viaIngress
            ? "the ingress at \(HTTPWords.place(target.base, connectTo: context.config.ingress.connectTo))"
            : "the fileserver at \(HTTPWords.place(target.base))"
        var metrics: [String: Double] = ["size_bytes": Double(size), "fresh_token": choice.fresh ? 1 : 0]
        var uploaded = false
        var webProxy: CheckResult?
        let auth = ("Authorization", "Bearer " + token.value.exposed)

        func request(_ method: String, _ url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil)
            -> HTTPRequest
        {
            var request =
                target.viaIngress
                ? context.ingressRequest(method: method, url: url, headers: [auth] + headers, body: body)
                : context.directRequest(method: method, url: url, headers: [auth] + headers, body: body)
            request.maxBodyBytes = size + 64 * 1024
            return request
        }

        func step(_ name: String, _ request: HTTPRequest) async throws(StepFailure) -> HTTPResponse {
            switch await context.send(request) {
            case .failure(let failure):
                throw transportFailure(
                    name, failure, place: place, fresh: choice.fresh, context: context, redactor: redactor)
            case .success(let response):
                metrics["\(name)_ms"] = response.timings.total
                return response
            }
        }

        do throws(StepFailure) {
            let form = MultipartForm(field: path, filename: (path as NSString).lastPathComponent, content: content)
            let upload = try await step(
                "upload",
                request(
                    "POST", target.base.appendingPathComponent(""),
                    headers: [("Content-Type", form.contentType)], body: form.body))
            guard upload.status == 200 else {
                throw answerFailure(
                    "upload", upload, target: target, place: place, fresh: choice.fresh, redactor: redactor)
            }
            guard let saved = JSONValue.parse(upload.body)?.array?.compactMap(\.string), saved.contains(path) else {
                throw StepFailure(
                    status: .critical,
                    summary:
                        "the upload to \(place) answered 200 but not with the list of saved paths: something else answers there",
                    hint: target.viaIngress
                        ? "Check the ingress's routing for the files host."
                        : "services.fileserver_url should point at the fileserver (port 8081).",
                    evidence: redactor.redact(HTTPWords.excerpt(upload)))
            }
            uploaded = true
            do throws(StepFailure) {
                let download = try await step("download", request("GET", fileURL))
                guard download.status == 200 else {
                    throw download.status == 404
                        ? StepFailure(
                            status: .critical,
                            summary: "the file just uploaded to \(place) is not found on download (404)",
                            hint:
                                "Uploads and downloads reach different storage: replicas of the fileserver without a shared volume?",
                            evidence: redactor.redact(HTTPWords.excerpt(download)))
                        : answerFailure(
                            "download", download, target: target, place: place, fresh: false, redactor: redactor)
                }
                guard download.body == content else {
                    throw StepFailure(
                        status: .critical,
                        summary:
                            "the file read back from \(place) differs from what was uploaded (\(download.body.count + download.droppedBodyBytes) bytes back, \(size) sent)",
                        hint:
                            "The storage corrupts data, or a cache in front serves another file; check the volume and any proxy cache."
                    )
                }
                // The browser's way: the same file with the login cookie and no Authorization header, as the web UI
                // loads plots and debug samples (the SDK and the steps above send a Bearer header).
                var cookieRequest = request("GET", fileURL)
                cookieRequest.headers = [("Cookie", "\(cookieName)=\(token.value.exposed)")]
                let byCookie = try await step("cookie_download", cookieRequest)
                guard byCookie.status == 200, byCookie.body == content else {
                    let why =
                        byCookie.status == 401
                        ? "the fileserver rejects the login cookie \(cookieName) that the Bearer header passes: the web UI's plots and debug samples fail to load (401) while SDK uploads work"
                        : "the file read with the login cookie \(cookieName) gave HTTP \(byCookie.status)\(byCookie.status == 200 ? " with other bytes" : ""), not the file"
                    throw StepFailure(
                        status: .critical, summary: "the browser's way to \(place): \(why)",
                        hint: target.viaIngress
                            ? "Let the ingress forward the Cookie header to the fileserver, and list the apiserver's session cookie name in the fileserver's fileserver.auth.cookie_names."
                            : "List the apiserver's session cookie name (auth.session_auth_cookie_name) in the fileserver's fileserver.auth.cookie_names (CLEARML__FILESERVER__AUTH__COOKIE_NAMES), or set checks.fileserver.roundtrip.cookie_name.",
                        evidence: redactor.redact(HTTPWords.excerpt(byCookie)))
                }
                if !target.viaIngress, let webserver = context.config.services.webserver {
                    webProxy = await readThroughWebProxy(
                        webserver, path: path, content: content, token: token,
                        context: context, redactor: redactor)
                }
            } catch {
                await deleteQuietly(request("DELETE", fileURL), context)
                throw error
            }
            let delete = try await step("delete", request("DELETE", fileURL))
            guard delete.status == 200 else {
                throw answerFailure(
                    "delete", delete, target: target, place: place, fresh: false, redactor: redactor,
                    extra: " (the probe's file \(path) is left behind)")
            }
            let gone = try await step("gone", request("GET", fileURL))
            guard gone.status == 404 else {
                throw StepFailure(
                    status: .warning,
                    summary: "the deleted file is still served by \(place) (HTTP \(gone.status), expected 404)",
                    hint:
                        "A cache in front of the fileserver serves deleted files (it allows max-age 300 s); do not cache /files.",
                    evidence: redactor.redact(HTTPWords.excerpt(gone)))
            }
        } catch let failure {
            let dependsOn = failure.dependsOn + [.check(.apiserverAuth)] + pathDependencies(target)
            let summary =
                choice.loginProblem.map { "auth.login fails (\($0.code)), so the last token was used; " } ?? ""
            var result = builder.result(
                target: target.name, service: service(target), status: failure.status,
                summary: summary + failure.summary, hint: failure.hint, metrics: metrics, error: failure.error,
                evidence: failure.evidence,
                dependsOn: Self.unique(dependsOn), reachabilityFailure: failure.reachability)
            result.durationMs = builder.elapsedMs
            return Outcome(result: result, uploaded: uploaded, webProxy: webProxy)
        }

        let total = ["upload", "download", "delete", "gone"].compactMap { metrics["\($0)_ms"] }.reduce(0, +)
        let steps =
            "upload \(Self.ms(metrics["upload_ms"])), download \(Self.ms(metrics["download_ms"])), "
            + "with the login cookie \(Self.ms(metrics["cookie_download_ms"])), delete \(Self.ms(metrics["delete_ms"])), 404 after \(Self.ms(metrics["gone_ms"]))"
        let tokenWords =
            choice.fresh
            ? "with a token it had not seen, validated through the apiserver"
            : "with a token it had validated before"
        var summary =
            "\(target.viaIngress ? "through the ingress: " : "")uploaded, read back and deleted \(Self.bytes(size)) "
            + "in \(Self.ms(total)) (\(steps)) \(tokenWords)"
        var status = Status.ok
        var hint: String?
        var dependsOn: [Dependency] = [.check(.apiserverAuth)] + pathDependencies(target)
        if let problem = choice.loginProblem {
            status = .warning
            summary = "auth.login fails (\(problem.code)), so the last token was used: storage works; " + summary
            hint = "See apiserver.auth; new tokens cannot be validated until login works."
            dependsOn = [.check(.apiserverAuth)]
        } else if total / 1000 > context.settings.slowWarning {
            status = .warning
            summary = "slow: " + summary
            hint =
                "Compare the steps: a slow upload or download is the storage volume; a slow first call with a new token is the validation through the apiserver."
        }
        var result = builder.result(
            target: target.name, service: service(target), status: status, summary: summary,
            hint: hint, metrics: metrics, dependsOn: dependsOn)
        result.durationMs = builder.elapsedMs
        return Outcome(result: result, uploaded: uploaded, webProxy: webProxy)
    }

    /// The probe's file through the webserver's `/files/` proxy with the login cookie only: how the UI loads plots
    /// and debug samples when it uses its own origin for files. Run after the direct read with the cookie passed, so
    /// a failure here is the proxy's (the webserver), or a symptom of `webserver.ui/files` when the proxy is down.
    func readThroughWebProxy(
        _ webserver: URL, path: String, content: Data, token: TokenStore.Token, context: CheckContext,
        redactor: Redactor
    ) async -> CheckResult {
        let builder = ResultBuilder(id: .fileserverRoundtrip)
        var request = context.directRequest(
            url: webserver.appendingPathComponent("files").appendingPathComponent(path),
            headers: [("Cookie", "\(cookieName)=\(token.value.exposed)")])
        request.maxBodyBytes = size + 64 * 1024
        let place = "the webserver's /files/ proxy at \(HTTPWords.place(webserver))"
        let dependsOn: [Dependency] = [
            .result("\(CheckID.fileserverRoundtrip.rawValue)/direct"), .result("\(CheckID.webserverUI.rawValue)/files"),
        ]
        func result(
            _ status: Status, _ summary: String, hint: String? = nil, metrics: [String: Double] = [:],
            timings: HTTPTimings? = nil,
            error: String? = nil, evidence: String? = nil, reachability: Bool = false
        ) -> CheckResult {
            builder.result(
                target: Self.webProxyTarget, service: .webserver, status: status, summary: summary, hint: hint,
                metrics: metrics,
                timings: timings, error: error, evidence: evidence, dependsOn: dependsOn,
                reachabilityFailure: reachability)
        }
        switch await context.send(request) {
        case .failure(let failure):
            return result(
                .critical,
                "the probe's file through \(place): "
                    + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                hint: "See webserver.ui.", timings: failure.timings, error: redactor.redact(failure.description),
                reachability: failure.isReachability)
        case .success(let response):
            let metrics = ["web_proxy_download_ms": response.timings.total]
            if response.status == 200 && response.body == content {
                return result(
                    .ok,
                    "the probe's file read through \(place) with the login cookie in \(Self.ms(response.timings.total))",
                    metrics: metrics, timings: response.timings)
            }
            let why: String
            let hint: String
            switch response.status {
            case 401:
                why =
                    "401: the cookie \(cookieName) that the fileserver accepts directly does not reach it through the proxy"
                hint =
                    "The webserver's nginx (or NGINX_FILESERVER_ADDRESS) drops the Cookie header or sends /files to something else; the UI's plots and debug samples fail to load."
            case 502, 503, 504:
                why = "HTTP \(response.status): the proxy gets no answer from the fileserver"
                hint =
                    "Check NGINX_FILESERVER_ADDRESS on the webserver (default http://fileserver:8081) and that it reaches the fileserver."
            case 200:
                why = "200 with other bytes than the file"
                hint = "The proxy reaches another fileserver (NGINX_FILESERVER_ADDRESS) or a cache serves another file."
            default:
                why = "HTTP \(response.status), not the file"
                hint =
                    "Check NGINX_FILESERVER_ADDRESS on the webserver (default http://fileserver:8081): the UI loads files through it."
            }
            return result(
                .critical, "the probe's file through \(place) with the login cookie: \(why)", hint: hint,
                metrics: metrics,
                timings: response.timings, evidence: redactor.redact(HTTPWords.excerpt(response)))
        }
    }

    func deleteQuietly(_ request: HTTPRequest, _ context: CheckContext) async {
        guard context.remaining > 0.05 else { return }
        _ = await context.send(request)
    }

    /// No HTTP answer to a step.
    func transportFailure(
        _ step: String, _ failure: HTTPFailure, place: String, fresh: Bool, context: CheckContext,
        redactor: Redactor
    ) -> StepFailure {
        var words = "the \(step): " + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout)
        var hint: String
        var dependsOn: [Dependency] = []
        switch failure.kind {
        case .timeout where failure.phase != "connect" && step == "upload" && fresh:
            words +=
                ": the fileserver hangs, most likely while it validates a token it has not seen with the apiserver "
                + "(auth.validate_token; it keeps retrying while it cannot reach it)"
            hint =
                "Check that the fileserver reaches the apiserver (hosts.api_server, default http://apiserver:8008) and "
                + "that its system credentials (secure.credentials.fileserver) work."
        case .timeout where failure.phase != "connect":
            words += ": the fileserver accepted the connection but does not answer"
            hint =
                "Its storage volume (/mnt/fileserver, e.g. a stale NFS mount) or the process is stuck; see its log, restart it."
            dependsOn = [.service(.redis)]
        case .connectionRefused:
            hint = "Is the fileserver running and listening on that port?"
        case .nameResolution:
            hint = "Check the host name, and that the probe is on the stack's network."
        default:
            hint = "See the fileserver's (or the ingress's) log."
        }
        return StepFailure(
            status: .critical, summary: words, hint: hint, dependsOn: dependsOn,
            reachability: failure.isReachability, error: redactor.redact(failure.description))
    }

    /// An HTTP answer that is not what the step expects.
    func answerFailure(
        _ step: String, _ response: HTTPResponse, target: Target, place: String, fresh: Bool,
        redactor: Redactor, extra: String = ""
    ) -> StepFailure {
        let evidence = redactor.redact(HTTPWords.excerpt(response))
        let status = response.status
        // nginx's own error pages (not a page it passes through from the fileserver) end with "<center>nginx</center>".
        let fromNginx = response.text.contains("<center>nginx")
        let prefix = "the \(step) got HTTP \(status) from \(place)"
        switch status {
        case 401:
            let message = redactor.redact(Evidence.excerpt(response.text, limit: 160))
            if message.contains("Only bearer token") {
                return StepFailure(
                    status: .critical,
                    summary:
                        "\(prefix): the fileserver got no Bearer token (\(message)): something in between rewrites Authorization",
                    hint: "Let the Authorization header reach the fileserver unchanged.", evidence: evidence)
            }
            let why =
                fresh
                ? "the fileserver rejects a token the apiserver issued moments ago: its token validation path through the apiserver is broken"
                : "the fileserver rejects the probe's token although it validated it before: its token cache (Redis db 8) or its validation through the apiserver fails"
            return StepFailure(
                status: .critical, summary: "\(prefix) (token rejected): \(why)",
                hint: "Check the fileserver's hosts.api_server (default http://apiserver:8008), its system credentials "
                    + "(secure.credentials.fileserver) and that it shares the apiserver's auth settings; see its log for the reason.",
                evidence: evidence)
        case 413:
            let (who, hint) =
                fromNginx
                ? (
                    "the ingress (nginx's client_max_body_size; its default is 1m)",
                    "Raise client_max_body_size on the ingress's files host (0 = no limit), as the webserver's own nginx does."
                )
                : (
                    "the fileserver (fileserver.upload.max_upload_size_mb)",
                    "Raise or unset fileserver.upload.max_upload_size_mb (0 = no limit), or lower checks.fileserver.roundtrip.size_bytes."
                )
            return StepFailure(
                status: .critical, summary: "\(prefix): a \(Self.bytes(size)) upload is too large for \(who)",
                hint: hint, evidence: evidence)
        case 415:
            return StepFailure(
                status: .critical,
                summary:
                    "\(prefix): the fileserver refuses a Content-Encoding on the request (\(redactor.redact(Evidence.excerpt(response.text, limit: 120)))); the probe sends none, so something in between adds it",
                hint:
                    "A proxy compresses request bodies; turn that off for the files host (the fileserver accepts no Content-Encoding).",
                evidence: evidence)
        case 502, 503, 504:
            let meaning = status == 504 ? "timed out waiting for" : "could not get an answer from"
            return StepFailure(
                status: .critical, summary: "\(prefix): the proxy \(meaning) the fileserver",
                hint: "Check that the fileserver runs and that the proxy's upstream address and network reach it.",
                evidence: evidence)
        case 500...:
            return StepFailure(
                status: .critical,
                summary:
                    "\(prefix)\(extra): the fileserver failed; its storage volume is full or read-only, or its token cache (Redis db 8) fails",
                hint:
                    "Check free space and permissions of the fileserver's volume (/mnt/fileserver), Redis, and the fileserver's log.",
                dependsOn: [.service(.redis)], evidence: evidence)
        case 403:
            return StepFailure(
                status: .critical, summary: "\(prefix): something in front of the fileserver refuses the probe",
                hint: "An allow-list or auth in front of the files route refuses the probe; allow its address.",
                evidence: evidence)
        default:
            return StepFailure(
                status: .critical, summary: "\(prefix)\(extra), not what the fileserver answers there",
                hint: target.viaIngress
                    ? "Check the ingress's routing for the files host."
                    : "services.fileserver_url should point at the fileserver (port 8081).",
                evidence: evidence)
        }
    }

    static func unique(_ dependencies: [Dependency]) -> [Dependency] {
        var seen: [Dependency] = []
        for dependency in dependencies where !seen.contains(dependency) { seen.append(dependency) }
        return seen
    }

    static func ms(_ milliseconds: Double?) -> String { Durations.format(seconds: (milliseconds ?? 0) / 1000) }

    static func bytes(_ count: Int) -> String {
        count >= 1024 * 1024
            ? DecimalText.fixed(Double(count) / 1_048_576, places: 1) + " MB"
            : count >= 1024 ? "\(count / 1024) KB" : "\(count) bytes"
    }
}
