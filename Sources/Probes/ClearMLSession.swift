import Foundation
import NativeClients
import ProbeCore

/// How a check gets a token: `auth.login` with Basic key:secret and a short `expiration_sec`, direct first and through
/// the ingress when the direct address cannot be reached from here, shared through `ProbeState.tokens`.
public enum ClearMLSession {
    /// A token for `context`'s check: reused when young enough, else one shared login that may use at most
    /// `share` of what is left of the deadline (the rest stays for the check's own steps).
    public static func grant(
        _ context: CheckContext, credentials: ProbeConfig.Credentials, share: Double = 1,
        reserve: Double = 0, force: Bool = false
    ) async -> TokenStore.Grant {
        let endpoints = ClearMLEndpoint.all(context.config)
        let budget = max(0, context.remaining * share - reserve)
        var bounded = context
        bounded.deadline = .now + .milliseconds(Int(budget * 1000))
        let loginContext = bounded
        let redactor = Redactor(context.config.secrets + [ClearMLAuth.basicValue(credentials)])
        return await context.state.tokens.token(
            reuse: credentials.tokenReuse, force: force, waitUntil: loginContext.deadline
        ) {
            await login(loginContext, credentials: credentials, endpoints: endpoints, redactor: redactor)
        }
    }

    /// One `auth.login`, trying the next path only when the previous one cannot be reached from here.
    static func login(
        _ context: CheckContext, credentials: ProbeConfig.Credentials, endpoints: [ClearMLEndpoint],
        redactor: Redactor
    ) async -> TokenStore.Login {
        let started = ContinuousClock.now
        var last: (ClearMLProblem, ClearMLEndpoint)?
        var failures: [String: ClearMLProblem] = [:]
        for endpoint in endpoints {
            let call = ClearMLCall(
                "auth.login", on: endpoint, parameters: ["expiration_sec": Int(credentials.tokenLifetime)],
                auth: .basic(credentials), config: context.config)
            let now = Date()
            switch await call.send(context, redactor: redactor) {
            case .success(let reply):
                let elapsed = started.duration(to: .now).milliseconds
                guard let value = reply.envelope.data["token"]?.string, !value.isEmpty else {
                    let problem = ClearMLProblem(
                        status: .critical, summary: "\(call.words): answered OK without data.token",
                        hint: "Something that is not ClearML's apiserver answers here; check the address.",
                        timings: reply.response.timings, code: "no token")
                    return TokenStore.Login(
                        token: nil, problem: problem, endpoint: endpoint, failures: failures, durationMs: elapsed)
                }
                let token = TokenStore.Token(
                    value: Secret(value), obtainedAt: now,
                    expiresAt: now.addingTimeInterval(credentials.tokenLifetime))
                return TokenStore.Login(
                    token: token, problem: nil, endpoint: endpoint, failures: failures,
                    durationMs: reply.response.timings.total)
            case .failure(let problem):
                last = (problem, endpoint)
                failures[endpoint.target] = problem
                if problem.reachabilityFailure { continue }
                return TokenStore.Login(
                    token: nil, problem: problem, endpoint: endpoint, failures: failures,
                    durationMs: started.duration(to: .now).milliseconds)
            }
        }
        let problem =
            last?.0
            ?? ClearMLProblem(
                status: .unknown, summary: "no apiserver address to log in at",
                hint: "Set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST.", code: "not configured")
        return TokenStore.Login(
            token: nil, problem: problem, endpoint: last?.1, failures: failures,
            durationMs: started.duration(to: .now).milliseconds)
    }

    /// One authenticated read for checks that only look at the API (`agents.workers`, `queues.backlog`): a token from
    /// the session (a login only when the reuse window is over), the call on the first configured path, and any
    /// failure already phrased for people. Every failure also depends on `apiserver.auth`, which says why the API fails.
    public static func read(
        _ action: String, parameters: [String: any Sendable], _ context: CheckContext,
        credentials: ProbeConfig.Credentials,
        maxReply: Int = ClearMLCall.defaultMaxReply
    ) async -> Result<ClearMLEnvelope, ClearMLProblem> {
        var data: JSONValue = .null
        let reply = await read(action, parameters: parameters, context, credentials: credentials, maxReply: maxReply) {
            data = try $0.value()
        }
        return reply.map { envelope in
            var envelope = envelope
            envelope.data = data
            return envelope
        }
    }

    /// `read`, handing the reply's `data` to `readData` unbuilt (see `ClearMLCall.send`): what `readData` gathered
    /// counts only on success.
    public static func read(
        _ action: String, parameters: [String: any Sendable], _ context: CheckContext,
        credentials: ProbeConfig.Credentials, maxReply: Int = ClearMLCall.defaultMaxReply,
        readData: (inout JSONScanner) throws -> Void
    ) async -> Result<ClearMLEnvelope, ClearMLProblem> {
        guard let endpoint = ClearMLEndpoint.all(context.config).first else {
            return .failure(ClearMLProblem(status: .unknown, summary: "no apiserver address", code: "not configured"))
        }
        let reserve = min(1, context.settings.timeout * 0.25)
        let grant = await grant(context, credentials: credentials, share: 0.6, reserve: reserve)
        guard let token = grant.token else {
            let why = grant.login?.problem?.summary ?? "auth.login gave none"
            return .failure(
                ClearMLProblem(
                    status: .unknown, summary: "not tried: no token (\(why))",
                    hint: "See apiserver.auth; this check runs again once the probe can log in.",
                    dependsOn: [.check(.apiserverAuth)], code: "no token"))
        }
        let redactor = await redactor(context, credentials: credentials)
        var call = ClearMLCall(
            action, on: endpoint, parameters: parameters, auth: .bearer(token.value), config: context.config)
        call.maxReplyBytes = maxReply
        call.maxReplyKey = "checks.\(context.id.rawValue).max_reply"
        switch await call.send(
            context, reserve: reserve, basicLoginWorked: grant.loggedIn, redactor: redactor, readData: readData)
        {
        case .success(let reply):
            return .success(reply.envelope)
        case .failure(var problem):
            if problem.isTimeout {
                problem = problem.explainedByPing(await ClearMLCall.ping(endpoint, context, budget: reserve))
            }
            problem.dependsOn += [.check(.apiserverAuth)]
            return .failure(problem)
        }
    }

    /// Every secret a ClearML check may meet in outside text: the config's, the Basic header value, the session tokens.
    public static func redactor(_ context: CheckContext, credentials: ProbeConfig.Credentials) async -> Redactor {
        Redactor(
            context.config.secrets + [ClearMLAuth.basicValue(credentials)] + (await context.state.tokens.knownTokens))
    }
}
