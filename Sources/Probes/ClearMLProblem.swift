import Foundation
import NativeClients
import ProbeCore

/// What went wrong with one apiserver call, in words a person can act on (docs/clearml-api.md, "Calls"), with the status and the
/// dependencies a result built from it should carry. The one place that maps envelopes and failures to meanings, so
/// `apiserver.auth`, `fileserver.roundtrip`, `agents.workers` and `queues.backlog` say the same thing for the same fault.
public struct ClearMLProblem: Sendable, Error {
    public var status: Status
    /// "auth.login on the apiserver at host:port: …", without a check prefix.
    public var summary: String
    public var hint: String?
    /// What this failure may be a symptom of (before the caller adds its path's own dependencies).
    public var dependsOn: [Dependency]
    public var reachabilityFailure: Bool
    /// Redacted.
    public var error: String?
    /// Redacted, bounded.
    public var evidence: String?
    public var timings: HTTPTimings
    /// No answer within the step's time (the caller may look at `debug.ping` to say why).
    public var isTimeout: Bool
    /// `401/30`: the token was refused (revoked, expired, signed with another key).
    public var tokenRefused: Bool
    /// `"401/22"`, `"plain 500"`, `"timeout"`: for metrics and tests.
    public var code: String

    public init(
        status: Status, summary: String, hint: String? = nil, dependsOn: [Dependency] = [],
        reachabilityFailure: Bool = false, error: String? = nil, evidence: String? = nil,
        timings: HTTPTimings = HTTPTimings(), isTimeout: Bool = false, tokenRefused: Bool = false, code: String
    ) {
        self.status = status
        self.summary = summary
        self.hint = hint
        self.dependsOn = dependsOn
        self.reachabilityFailure = reachabilityFailure
        self.error = error
        self.evidence = evidence
        self.timings = timings
        self.isTimeout = isTimeout
        self.tokenRefused = tokenRefused
        self.code = code
    }

    /// The apiserver's own data dependencies (docs/architecture.md, "Topology"), for failures that do not say which one.
    static let dataStores: [Dependency] = [.service(.mongo), .service(.redis), .service(.elasticsearch)]

    /// An answer that is not a success: an envelope error, a plain-text crash, a proxy page, or something else.
    static func answer(
        _ response: HTTPResponse, call: ClearMLCall, basicLoginWorked: Bool,
        redactor: Redactor
    ) -> ClearMLProblem {
        let what = call.words
        let evidence = redactor.redact(HTTPWords.excerpt(response))
        func problem(
            _ status: Status, _ words: String, hint: String?, dependsOn: [Dependency], code: String,
            error: String? = nil, tokenRefused: Bool = false
        ) -> ClearMLProblem {
            ClearMLProblem(
                status: status, summary: "\(what): \(words)", hint: hint, dependsOn: dependsOn,
                error: error.map(redactor.redact), evidence: evidence, timings: response.timings,
                tokenRefused: tokenRefused, code: code)
        }
        guard let envelope = ClearMLEnvelope(body: response.body) else {
            return plain(response, call: call, basicLoginWorked: basicLoginWorked) { status, words, hint, dependsOn in
                problem(status, words, hint: hint, dependsOn: dependsOn, code: "plain \(response.status)")
            }
        }
        let message = redactor.redact(Evidence.excerpt(envelope.resultMessage, limit: 200))
        let code = envelope.code
        switch (envelope.resultCode, envelope.resultSubcode) {
        case (401, 22):
            return problem(
                .unknown, "the probe is blind: its key is rejected (\(code) \(message))",
                hint: "This says nothing about ClearML's health. Check the probe's credentials "
                    + "(CLEARML_API_ACCESS_KEY, CLEARML_API_SECRET_KEY): create them in the UI (Settings, "
                    + "Workspace, API credentials) or as a fixed user, for the server this address reaches.",
                // When apiserver.login_mode finds fixed users off, the apiserver lost them: that is the cause.
                dependsOn: [.check(.apiserverLoginMode)], code: code)
        case (401, 21):
            return problem(
                .unknown, "the probe is blind: the apiserver cannot decode its Basic credentials (\(code) \(message))",
                hint:
                    "Check the key and secret for stray characters or quotes; a proxy may also rewrite the Authorization header.",
                dependsOn: [], code: code)
        case (401, 20):
            return problem(
                .critical,
                "no credentials reached the apiserver (\(code) \(message)): something between "
                    + "the probe and the apiserver drops the Authorization header",
                hint: call.endpoint.viaIngress
                    ? "Make the ingress pass the Authorization header to the apiserver (no proxy_set_header Authorization \"\")."
                    : "A proxy in front of the apiserver drops the Authorization header; let it through.",
                dependsOn: [], code: code)
        case (401, 10):
            return problem(
                .critical,
                "the apiserver got an Authorization header of another type (\(code) \(message)): a proxy rewrites it",
                hint: "Let Authorization reach the apiserver unchanged (Basic for login, Bearer afterwards).",
                dependsOn: [], code: code)
        case (401, 30):
            return problem(
                .critical,
                "the apiserver refuses the token it issued (\(code) \(message)): \(tokenReason(envelope.resultMessage))",
                hint: "Every replica of the apiserver needs the same secure.auth.token_secret, kept across restarts; "
                    + "if users are logged out too, that is the cause.",
                dependsOn: [], code: code, tokenRefused: true)
        case (403, 20):
            return problem(
                .unknown, "the probe is blind: its identity's role may not call this (\(code) \(message))",
                hint: "Give the probe a normal user identity (role user, or a fixed user), not a guest.",
                dependsOn: [], code: code)
        case (500, 1):
            return problem(
                .critical, "MongoDB fails behind the apiserver (\(code) \(message))",
                hint: "Check MongoDB (mongo.ping, its container and disk) and the apiserver's address for it "
                    + "(CLEARML_MONGODB_SERVICE_HOST/PORT).",
                dependsOn: [.service(.mongo)], code: code)
        case (500, 4):
            return problem(
                .critical, "Elasticsearch refuses writes: its disk is low (\(code) \(message))",
                hint: "Free or add disk on the Elasticsearch data volume (compose's flood-stage watermark is 500mb), "
                    + "then clear the read-only block on the indices.",
                dependsOn: [.service(.elasticsearch)], code: code)
        case (500, 100):
            return problem(
                .critical, "the apiserver cannot read worker entries from Redis (\(code) \(message))",
                hint:
                    "Check Redis (redis.latency, its container) and the apiserver's address for it (CLEARML_REDIS_SERVICE_HOST/PORT).",
                dependsOn: [.service(.redis)], code: code)
        case (404, _):
            return problem(
                .critical, "the apiserver does not know this endpoint (\(code) \(message))",
                hint: call.endpoint.viaIngress
                    ? "The api route must reach the apiserver's root (no extra path prefix), and the server must be ClearML 2.0 or newer."
                    : "Point services.apiserver_url at the apiserver's root; the probe needs ClearML server 2.0 or newer.",
                dependsOn: [], code: code)
        case (400, _):
            return problem(
                .critical, "the apiserver refused the request as invalid (\(code) \(message))",
                hint: "The probe and this server disagree on the API; report it with the server version.",
                dependsOn: [], code: code)
        case (500..., _):
            return problem(
                .critical, "internal error in the apiserver (\(code) \(message))",
                hint: "See the apiserver's log for the trace; it usually names the store that failed.",
                dependsOn: dataStores, code: code)
        default:
            return problem(
                .critical, "unexpected answer (\(code) \(message))", hint: "See the apiserver's log.",
                dependsOn: [], code: code)
        }
    }

    /// An answer without an envelope: the apiserver crashed outside its call wrapper, or something else answered.
    static func plain(
        _ response: HTTPResponse, call: ClearMLCall, basicLoginWorked: Bool,
        problem: (Status, String, String, [Dependency]) -> ClearMLProblem
    ) -> ClearMLProblem {
        let status = response.status
        if HTTPWords.isGatewayError(status) {
            let meaning = status == 504 ? "timed out waiting for" : "could not get an answer from"
            return call.endpoint.viaIngress
                ? problem(
                    .critical, "HTTP \(status) from the ingress: nginx \(meaning) the apiserver",
                    "Check that the apiserver runs and that nginx's upstream address and network reach it.", [])
                : problem(
                    .critical, "HTTP \(status) from a proxy in front of the apiserver: it \(meaning) the apiserver",
                    "services.apiserver_url should point at the apiserver itself (port 8008).", [])
        }
        if status >= 500, call.auth.isBearer, looksLikeApiserverCrash(response) {
            let basic = basicLoginWorked ? " while auth.login with Basic credentials works" : ""
            return problem(
                .critical,
                "a Bearer call fails with a plain HTTP \(status)\(basic): the apiserver cannot "
                    + "reach Redis (every Bearer call looks up revoked tokens there)",
                "Check Redis (redis.latency, its container, memory) and the apiserver's address for it "
                    + "(CLEARML_REDIS_SERVICE_HOST/PORT).", [.service(.redis)])
        }
        if status >= 500 {
            return problem(
                .critical, "the apiserver failed with a plain HTTP \(status) (no ClearML envelope)",
                "See the apiserver's log for the trace.", dataStores)
        }
        if status == 401 || status == 403 {
            return problem(
                .critical,
                "HTTP \(status) without a ClearML envelope: something in front of the apiserver refuses the probe",
                "An auth or allow-list in front of the apiserver refuses the probe; allow its address.", [])
        }
        if status == 200 {
            return problem(
                .critical, "answered 200 but not with a ClearML envelope: something else answers at this address",
                call.endpoint.viaIngress
                    ? "Check the ingress's routing for the api host."
                    : "Check services.apiserver_url (the apiserver listens on 8008).",
                [])
        }
        return problem(
            .critical, "HTTP \(status) without a ClearML envelope",
            "Something other than the apiserver answers; check the address.",
            [])
    }

    /// The apiserver's crash reply is plain text `Failed processing request …` (docs/clearml-api.md, "Calls").
    static func looksLikeApiserverCrash(_ response: HTTPResponse) -> Bool {
        response.text.hasPrefix("Failed processing request") || response.header("server")?.lowercased() == "clearml"
    }

    /// Why a token was refused, from the reason in `result_msg`.
    static func tokenReason(_ message: String) -> String {
        let lower = message.lowercased()
        if lower.contains("revoked") {
            return "the probe's session was revoked (someone called auth.logout with its token)"
        }
        if lower.contains("signature verification") {
            return "the token was signed with another key (apiserver replicas or restarts with different token secrets)"
        }
        if lower.contains("expired") { return "the token has expired already (the apiserver's clock is off)" }
        return "the token is not valid there"
    }

    /// No HTTP answer at all.
    static func transport(_ failure: HTTPFailure, call: ClearMLCall, waited: Double, redactor: Redactor)
        -> ClearMLProblem
    {
        let words = HTTPWords.failure(failure, at: call.place, timeout: waited)
        let hint: String =
            switch failure.kind {
            case .connectionRefused: "Is the apiserver running and listening on that port?"
            case .nameResolution: "Check the host name, and that the probe is on the stack's network."
            case .timeout: "The apiserver accepts connections but does not answer in time."
            case .tls: "See ingress.tls for the certificate."
            default: "The connection broke; see the apiserver's (or the ingress's) log."
            }
        // `words` already names the place, so the action alone leads.
        // A refused certificate is ingress.tls's finding: this failure is its symptom when that check fails too.
        let dependsOn: [Dependency] = failure.kind == .tls ? [.check(.ingressTLS)] : []
        return ClearMLProblem(
            status: .critical, summary: "\(call.action): \(words)", hint: hint, dependsOn: dependsOn,
            reachabilityFailure: failure.isReachability, error: redactor.redact(failure.description),
            timings: failure.timings, isTimeout: failure.kind == .timeout,
            code: failure.kind == .timeout ? "timeout" : failure.kind.rawValue)
    }

    /// A timeout explained by `debug.ping`: when the process answers at once but a database-backed call does not, the
    /// apiserver is waiting on MongoDB (pymongo waits 30 s to select a server before it answers 500/1, docs/clearml-api.md, "Calls").
    func explainedByPing(_ pingAnswered: Bool?) -> ClearMLProblem {
        guard isTimeout, let pingAnswered else { return self }
        var problem = self
        if pingAnswered {
            problem.summary +=
                ", while debug.ping answers at once: the apiserver is most likely waiting for MongoDB "
                + "(pymongo waits 30 s to select a server before it gives up)"
            problem.hint =
                "Check MongoDB (mongo.ping, its container, disk and memory); the apiserver answers 500/1 after about 30 s."
            problem.dependsOn = [.service(.mongo)]
        } else {
            problem.summary += ", and debug.ping does not answer either: the apiserver itself is stuck or overloaded"
            problem.hint = "See the apiserver's log and load; restart it if it stays stuck."
            problem.dependsOn = [.check(.apiserverPing)]
        }
        return problem
    }
}

/// Removes every secret the probe holds (config secrets, session tokens, the Basic header value) from outside text.
public struct Redactor: Sendable {
    public var secrets: [Secret]

    public init(_ secrets: [Secret]) { self.secrets = secrets }

    public func redact(_ text: String) -> String { Redact.text(text, secrets: secrets) }

    public func adding(_ more: [Secret]) -> Redactor { Redactor(secrets + more) }
}

extension ClearMLProblem {
    /// The problem as a check result; `alsoDependsOn` adds the path's own dependencies (the ingress over the API).
    func result(
        _ builder: ResultBuilder, target: String, service: Service? = nil, summary: String? = nil,
        alsoDependsOn: [Dependency] = [], metrics: [String: Double] = [:]
    ) -> CheckResult {
        var result = builder.result(
            target: target, service: service, status: status, summary: summary ?? self.summary,
            hint: hint, metrics: metrics, timings: timings, error: error, evidence: evidence,
            dependsOn: dependsOn + alsoDependsOn.filter { !dependsOn.contains($0) },
            reachabilityFailure: reachabilityFailure)
        result.durationMs = builder.elapsedMs  // the whole check, not only the last call
        return result
    }
}
