import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport

/// One ClearML double for a suite, with a probe config pointing at it: direct addresses to its roles, and its
/// webserver's `/api` and `/files` proxies standing in for the ingress (they strip the prefix like nginx does).
final class ClearMLDoubleFixture: @unchecked Sendable {
    // @unchecked: immutable after init; the double is driven through its control port.
    static let accessKey = "PROBEKEY7Q2X9W4ACCESS"
    static let secretKey = "s3cr3t-Zq81-probe-secret-value-XYZ"

    let double: PythonDouble

    init(arguments: [String] = []) throws {
        double = try PythonDouble(
            "clearml_double.py",
            arguments: [
                "--access-key", Self.accessKey, "--secret-key", Self.secretKey,
                "--validate-timeout", "30", "--proxy-timeout", "30",
            ] + arguments)
    }

    func reset() async throws { try await double.control("/reset", [String: Any]()) }

    func scenario(api: String? = nil, files: String? = nil, web: String? = nil) async throws {
        var body: [String: String] = [:]
        if let api { body["api"] = api }
        if let files { body["files"] = files }
        if let web { body["web"] = web }
        try await double.control("/scenario", body)
    }

    func state(_ body: [String: Any]) async throws { try await double.control("/state", body) }

    /// `{"api": {"auth.login": 1, …}, "files": {…}, …}`.
    func counters() async throws -> [String: [String: Int]] {
        let raw = try await double.control("/counters", method: "GET") as? [String: [String: Any]] ?? [:]
        return raw.mapValues { $0.compactMapValues { ($0 as? NSNumber)?.intValue } }
    }

    func count(_ role: String, _ key: String) async throws -> Int { try await counters()[role]?[key] ?? 0 }

    var apiURL: String { "http://127.0.0.1:\(double.port("api"))" }
    var filesURL: String { "http://127.0.0.1:\(double.port("files"))" }
    var webURL: String { "http://127.0.0.1:\(double.port("web"))" }

    /// A config for the double; `checks` is the YAML body of the `checks:` section (indented two spaces).
    func yaml(
        checks: String, timeout: String = "2s", ingress: Bool = true, direct: Bool = true, credentials: String? = nil,
        apiIngress: String? = nil, filesIngress: String? = nil
    ) -> String {
        let creds =
            credentials ?? """
                  access_key: \(Self.accessKey)
                  secret_key: \(Self.secretKey)
                """
        return """
            probe:
              instance: probe-test
              timeout: \(timeout)
              slow: 5s
            ingress:
              api_url: \(ingress ? (apiIngress ?? webURL + "/api") : "")
              files_url: \(ingress ? (filesIngress ?? webURL + "/files") : "")
            services:
              apiserver_url: \(direct ? apiURL : "")
              fileserver_url: \(direct ? filesURL : "")
              webserver_url: \(webURL)
            credentials:
            \(creds)
            checks:
            \(checks)
            """
    }

    /// Every check the double answers for, and their ids.
    static let allChecks = """
          apiserver.ping: {}
          apiserver.auth: {}
          apiserver.login_mode: {}
          webserver.ui: {}
          webserver.browser: {}
          fileserver.roundtrip: {}
          fileserver.volume: {path: /tmp, warning_free_percent: 0, critical_free_percent: 0, critical_free: 0b}
          agents.workers: {}
          queues.backlog: {}
          tasks.stale: {}
          ingress.routes: {}
        """
    static let allCheckIDs: Set<CheckID> = [
        .apiserverPing, .apiserverAuth, .apiserverLoginMode, .webserverUI, .webserverBrowser, .fileserverRoundtrip,
        .fileserverVolume, .agentsWorkers,
        .queuesBacklog, .tasksStale, .ingressRoutes,
    ]

    func loaded(
        checks: String, timeout: String = "2s", ingress: Bool = true, direct: Bool = true, credentials: String? = nil,
        apiIngress: String? = nil, filesIngress: String? = nil
    ) throws -> LoadedConfig {
        try LoadedConfig.load(
            yaml: yaml(
                checks: checks, timeout: timeout, ingress: ingress, direct: direct, credentials: credentials,
                apiIngress: apiIngress, filesIngress: filesIngress),
            file: "test.yaml", substitution: EnvironmentSubstitution(environment: [:]))
    }

    /// One engine pass over `only` with the given state.
    func run(_ loaded: LoadedConfig, only: Set<CheckID>, state: ProbeState = ProbeState(), readOnly: Bool = false) async
        -> Report
    {
        await Engine(loaded: loaded).run(selection: Selection(ids: only), readOnly: readOnly, state: state)
    }

    func stop() { double.stop() }
}

/// Measures a block's wall time in seconds.
func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    let elapsed = start.duration(to: .now)
    return (value, elapsed.seconds)
}
