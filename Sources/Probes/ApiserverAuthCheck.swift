import Foundation
import NativeClients
import ProbeCore

/// `apiserver.auth`: `auth.login` with Basic key:secret gives a token (reused for `credentials.token_reuse`, with a
/// short `expiration_sec`, memory only); `queues.get_all` with the Bearer token proves MongoDB and Redis serve the API
/// (docs/clearml-api.md, "Calls"); `server.info` gives the server and API versions (it needs auth from 2.3 and was open before,
/// so it is always sent with the token). Direct and through the ingress, as separate targets.
///
/// Every error envelope becomes a summary a person can act on (`ClearMLProblem`). A call that times out while
/// `debug.ping` answers is the apiserver waiting for MongoDB; a plain 500 on Bearer calls while Basic login works
/// is Redis. A rejected key (401/22) is `unknown`: the probe is blind, ClearML is not known to be down.
public struct ApiserverAuthCheck: Check {
    public var credentials: ProbeConfig.Credentials
    public var endpoints: [ClearMLEndpoint]

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        guard let credentials = config.credentials else {
            return .notConfigured("no credentials (set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY)")
        }
        let endpoints = ClearMLEndpoint.all(config)
        guard !endpoints.isEmpty else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        return .ready(ApiserverAuthCheck(credentials: credentials, endpoints: endpoints))
    }

    /// Seconds kept back from each call for a `debug.ping` that explains a timeout.
    static func reserve(_ timeout: Double) -> Double { min(1, timeout * 0.25) }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let reserve = Self.reserve(context.settings.timeout)
        let grant = await ClearMLSession.grant(context, credentials: credentials, reserve: reserve)
        let redactor = await ClearMLSession.redactor(context, credentials: credentials)
        let loginTarget = grant.login?.endpoint?.target ?? endpoints[0].target
        return await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask {
                    (
                        index,
                        await probe(
                            endpoint, grant: grant, loginTarget: loginTarget, context: context,
                            redactor: redactor, reserve: reserve)
                    )
                }
            }
            var results: [(Int, CheckResult)] = []
            for await item in group { results.append(item) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func probe(
        _ endpoint: ClearMLEndpoint, grant: TokenStore.Grant, loginTarget: String, context: CheckContext,
        redactor: Redactor, reserve: Double
    ) async -> CheckResult {
        let builder = ResultBuilder(id: .apiserverAuth)
        let service: Service = endpoint.viaIngress ? .nginx : .apiserver
        // Through the ingress, a failure the apiserver also shows directly is a symptom of it.
        let pathDependencies: [Dependency] = endpoint.viaIngress ? [.service(.apiserver)] : []

        let failedHere =
            grant.login?.failures[endpoint.target]
            ?? (grant.token == nil && endpoint.target == loginTarget ? grant.login?.problem : nil)
        if var problem = failedHere {
            if problem.isTimeout {
                problem = problem.explainedByPing(await ClearMLCall.ping(endpoint, context, budget: reserve))
            }
            return problem.result(
                builder, target: endpoint.target, service: service,
                alsoDependsOn: pathDependencies + processDependencies(problem, endpoint))
        }
        guard var token = grant.token else {
            return builder.result(
                target: endpoint.target, service: service, status: .unknown,
                summary: "not tried: no token, auth.login failed (see apiserver.auth/\(loginTarget))",
                dependsOn: [.result("\(CheckID.apiserverAuth.rawValue)/\(loginTarget)")] + pathDependencies)
        }

        var metrics: [String: Double] = [:]
        var steps: [String] = []
        if let login = grant.login, login.problem == nil, login.endpoint == endpoint {
            metrics["login_ms"] = login.durationMs
            steps.append("auth.login \(Self.ms(login.durationMs))")
        } else if grant.login == nil {
            steps.append("token reused (\(Durations.format(seconds: Date().timeIntervalSince(token.obtainedAt))) old)")
        }
        metrics["token_age_seconds"] = Date().timeIntervalSince(token.obtainedAt).rounded()

        // The authenticated call: Mongo (queues) and Redis (every Bearer call checks revoked tokens).
        var queues = await queuesCall(endpoint, token, context, grant: grant, redactor: redactor, reserve: reserve)
        if case .failure(let problem) = queues, problem.tokenRefused, grant.login == nil,
            await context.state.tokens.refused(token, reuse: credentials.tokenReuse)
        {
            // A reused token was refused (revoked, or a new token secret after a restart): one new login, then retry.
            let renewed = await ClearMLSession.grant(context, credentials: credentials, reserve: reserve)
            if let fresh = renewed.token, renewed.loggedIn {
                token = fresh
                steps.append("a new token after the old one was refused")
                queues = await queuesCall(
                    endpoint, token, context, grant: renewed, redactor: redactor.adding([fresh.value]),
                    reserve: reserve)
            }
        }
        let queuesReply: (envelope: ClearMLEnvelope, response: HTTPResponse)
        switch queues {
        case .failure(var problem):
            if problem.isTimeout {
                problem = problem.explainedByPing(await ClearMLCall.ping(endpoint, context, budget: reserve))
            }
            return problem.result(
                builder, target: endpoint.target, service: service,
                alsoDependsOn: pathDependencies + processDependencies(problem, endpoint), metrics: metrics)
        case .success(let reply):
            queuesReply = reply
        }
        metrics["queues_get_all_ms"] = queuesReply.response.timings.total
        steps.append("queues.get_all \(Self.ms(queuesReply.response.timings.total))")

        // Versions: server.info is always sent with the token (needed from 2.3, harmless before).
        let info = ClearMLCall("server.info", on: endpoint, auth: .bearer(token.value), config: context.config)
        var version = ""
        var infoProblem: ClearMLProblem?
        switch await info.send(context, redactor: redactor) {
        case .success(let reply):
            metrics["server_info_ms"] = reply.response.timings.total
            steps.append("server.info \(Self.ms(reply.response.timings.total))")
            let server = reply.envelope.data["version"]?.string.map { redactor.redact(Evidence.excerpt($0, limit: 40)) }
            let api = (reply.envelope.data["api_version"]?.string ?? reply.envelope.actualVersion).map {
                redactor.redact(Evidence.excerpt($0, limit: 20))
            }
            version = ": ClearML server \(server ?? "?")" + (api.map { " (API \($0))" } ?? "")
        case .failure(let problem):
            infoProblem = problem
        }

        let total =
            metrics["login_ms", default: 0] + metrics["queues_get_all_ms", default: 0]
            + metrics["server_info_ms", default: 0]
        let through = endpoint.viaIngress ? "through the ingress: " : ""
        let summary = through + steps.joined(separator: ", ") + version
        var result = builder.result(
            target: endpoint.target, service: service, status: .ok, summary: summary,
            metrics: metrics, timings: queuesReply.response.timings, dependsOn: pathDependencies,
            provides: [.mongo, .redis])
        result.durationMs = builder.elapsedMs
        if let infoProblem {
            result.status = .warning
            result.summary = summary + "; the version is unknown: " + infoProblem.summary
            result.hint = infoProblem.hint
            result.error = infoProblem.error
            result.evidence = infoProblem.evidence
        } else if total / 1000 > context.settings.slowWarning {
            result.status = .warning
            result.summary =
                "slow: \(summary) (\(Self.ms(total)) in all, above \(Durations.format(seconds: context.settings.slowWarning)))"
            result.hint = "A slow login or queue listing is MongoDB or the apiserver's load; compare with mongo.ping."
        }
        return result
    }

    func queuesCall(
        _ endpoint: ClearMLEndpoint, _ token: TokenStore.Token, _ context: CheckContext, grant: TokenStore.Grant,
        redactor: Redactor, reserve: Double
    ) async -> Result<(envelope: ClearMLEnvelope, response: HTTPResponse), ClearMLProblem> {
        let call = ClearMLCall(
            "queues.get_all", on: endpoint, parameters: ["only_fields": ["id"]], auth: .bearer(token.value),
            config: context.config)
        return await call.send(context, reserve: reserve, basicLoginWorked: grant.loggedIn, redactor: redactor)
    }

    /// When the process itself may be gone (no answer, a crash page), `apiserver.ping` explains it first.
    func processDependencies(_ problem: ClearMLProblem, _ endpoint: ClearMLEndpoint) -> [Dependency] {
        guard !endpoint.viaIngress, problem.reachabilityFailure || (problem.isTimeout && problem.dependsOn.isEmpty)
        else { return [] }
        return [.check(.apiserverPing)]
    }

    static func ms(_ milliseconds: Double) -> String { Durations.format(seconds: milliseconds / 1000) }
}
