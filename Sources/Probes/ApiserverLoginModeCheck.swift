import Foundation
import NativeClients
import ProbeCore

/// `apiserver.login_mode`: the login mode the web UI gets from `login.supported_modes` (no credentials needed, so it
/// works even when the probe's own key is refused). `basic.enabled` is the apiserver's fixed-users mode
/// (`apiserver.auth.fixed_users.enabled`): when it is off, the UI asks for a name only and lets anyone in, and
/// fixed-user keys (the probe's in compose/) are refused with 401/22. So a rejected key is told apart: with fixed users
/// off it is the apiserver that lost its configuration (this check is the root cause, `apiserver.auth` a symptom);
/// with fixed users on it is the probe's key. Also reports `server_errors` (the apiserver started without
/// Elasticsearch, or with an Elasticsearch it never migrated) and an enabled guest user.
public struct ApiserverLoginModeCheck: Check {
    public var expectFixedUsers: Bool
    public var guestStatus: Status

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let expect = try options.bool("expect_fixed_users", default: true)
        let guest = try options.string("guest_status", default: "warning")
        guard let guestStatus = Status(rawValue: guest), guestStatus != .unknown else {
            throw options.error(key: "guest_status", "'\(guest)' is not ok, warning or critical")
        }
        guard !ClearMLEndpoint.all(config).isEmpty else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL or CLEARML_API_HOST)")
        }
        return .ready(ApiserverLoginModeCheck(expectFixedUsers: expect, guestStatus: guestStatus))
    }

    public init(expectFixedUsers: Bool = true, guestStatus: Status = .warning) {
        self.expectFixedUsers = expectFixedUsers
        self.guestStatus = guestStatus
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .apiserverLoginMode)
        guard let endpoint = ClearMLEndpoint.all(context.config).first else { return [] }
        let redactor = Redactor(context.config.secrets)
        let call = ClearMLCall("login.supported_modes", on: endpoint, auth: .none, config: context.config)
        let service: Service = endpoint.viaIngress ? .nginx : .apiserver
        switch await call.send(context, redactor: redactor) {
        case .failure(let problem):
            return [
                builder.result(
                    service: service, status: problem.status, summary: problem.summary, hint: problem.hint,
                    timings: problem.timings, error: problem.error, evidence: problem.evidence,
                    dependsOn: [.check(.apiserverPing)] + problem.dependsOn,
                    reachabilityFailure: problem.reachabilityFailure)
            ]
        case .success(let reply):
            let judged = Self.judge(reply.envelope.data, expectFixedUsers: expectFixedUsers, guestStatus: guestStatus)
            return [
                builder.result(
                    service: service, status: judged.status, summary: judged.summary, hint: judged.hint,
                    metrics: judged.metrics, timings: reply.response.timings,
                    dependsOn: judged.dependsOn)
            ]
        }
    }

    /// Pure: the verdict for a `login.supported_modes` reply's `data`.
    static func judge(_ data: JSONValue, expectFixedUsers: Bool, guestStatus: Status)
        -> (status: Status, summary: String, hint: String?, metrics: [String: Double], dependsOn: [Dependency])
    {
        guard let enabled = data.at("basic.enabled")?.bool else {
            return (
                .critical,
                "login.supported_modes answered without basic.enabled: this is not ClearML's apiserver (or a version before 2.9)",
                "Check services.apiserver_url.", [:], []
            )
        }
        let guest = data.at("basic.guest.enabled")?.bool ?? false
        let esDown = data.at("server_errors.es_connection_error")?.bool ?? false
        let esNotMigrated = data.at("server_errors.missed_es_upgrade")?.bool ?? false
        let metrics: [String: Double] = ["fixed_users": enabled ? 1 : 0, "guest": guest ? 1 : 0]
        var findings: [Finding] = []
        var dependsOn: [Dependency] = []
        if esDown || esNotMigrated {
            findings.append(
                Finding(
                    .critical,
                    esDown
                        ? "the apiserver reports it started without Elasticsearch (server_errors.es_connection_error): the UI shows an error dialog instead of logging in"
                        : "the apiserver reports Elasticsearch data that was never migrated (server_errors.missed_es_upgrade): the UI shows an upgrade dialog",
                    hint:
                        "See elasticsearch.health and the apiserver's startup log; restart the apiserver once Elasticsearch answers."
                ))
            dependsOn.append(.service(.elasticsearch))
        }
        if expectFixedUsers && !enabled {
            findings.append(
                Finding(
                    .critical,
                    "fixed users are not enforced (login.supported_modes basic.enabled false): the web UI lets anyone in by name without a password, and fixed-user keys are refused (401/22)",
                    hint:
                        "The apiserver lost its auth.fixed_users configuration: check that apiserver.conf (or CLEARML__APISERVER__AUTH__FIXED_USERS__*) is mounted and enabled, then restart it. Set checks.apiserver.login_mode.expect_fixed_users: false for a server without fixed users."
                ))
        }
        if guest && guestStatus != .ok {
            findings.append(
                Finding(
                    guestStatus,
                    "a guest user is enabled (services.auth.fixed_users.guest): anyone can log in to the UI as guest",
                    hint: "Turn the guest user off unless the server is meant to be public."))
        }
        if let (status, text, hint) = Finding.summarise(findings) {
            return (status, text, hint, metrics, dependsOn)
        }
        let mode =
            enabled ? "fixed users enforced (username and password)" : "open: no fixed users (name only, as configured)"
        return (.ok, "login mode: \(mode)\(guest ? ", guest enabled" : "")", nil, metrics, [])
    }
}
