import Foundation
import ProbeCore

/// The sidecar's own settings, from flags and the environment (docs/architecture.md, "Interfaces").
public struct SidecarSettings: Sendable {
    public static let defaultPort = 9469

    public var listenHost: String
    public var listenPort: Int
    public var auth: HTTPAuth
    public var heartbeatURL: URL?
    public var heartbeatMethod: HeartbeatPinger.Method
    public var watchdogAlertmanagerURL: URL?
    public var maxConcurrency: Int
    public var stateDirectory: String?

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// `listen` is `--listen`; it wins over `CLEARML_PROBE_LISTEN`. Without either: all interfaces inside a container
    /// (the stack's network reaches it; Compose publishes it on the host's 127.0.0.1 only), loopback elsewhere.
    public static func resolve(
        listen: String?, stateDirectory: String?, configStateDirectory: String?,
        substitution: EnvironmentSubstitution = EnvironmentSubstitution(),
        inContainer: Bool = SidecarSettings.runningInContainer
    ) throws(Invalid) -> SidecarSettings {
        let environment = substitution.environment
        let listenText =
            nonEmpty(listen) ?? nonEmpty(environment["CLEARML_PROBE_LISTEN"])
            ?? (inContainer ? "0.0.0.0:\(defaultPort)" : "127.0.0.1:\(defaultPort)")
        let (host, port) = try parseListen(listenText)

        let token: String?
        let user = nonEmpty(environment["CLEARML_PROBE_HTTP_USER"])
        let password: String?
        do {
            token = nonEmpty(try substitution.value(of: "CLEARML_PROBE_HTTP_TOKEN"))
            password = nonEmpty(try substitution.value(of: "CLEARML_PROBE_HTTP_PASSWORD"))
        } catch {
            throw Invalid(description: error.description)
        }
        if (user == nil) != (password == nil) {
            throw Invalid(description: "CLEARML_PROBE_HTTP_USER and CLEARML_PROBE_HTTP_PASSWORD must be set together")
        }
        let auth = HTTPAuth(
            token: token.map(Secret.init), basic: user.flatMap { user in password.map { (user, Secret($0)) } })

        let heartbeat = try url(environment, "CLEARML_PROBE_HEARTBEAT_URL")
        let methodText = (nonEmpty(environment["CLEARML_PROBE_HEARTBEAT_METHOD"]) ?? "GET").uppercased()
        guard let method = HeartbeatPinger.Method(rawValue: methodText) else {
            throw Invalid(description: "CLEARML_PROBE_HEARTBEAT_METHOD must be GET or POST, not '\(methodText)'")
        }
        let alertmanager = try url(environment, "CLEARML_PROBE_WATCHDOG_ALERTMANAGER_URL")

        var concurrency = 4
        if let text = nonEmpty(environment["CLEARML_PROBE_MAX_CONCURRENCY"]) {
            guard let value = Int(text), (1...64).contains(value) else {
                throw Invalid(description: "CLEARML_PROBE_MAX_CONCURRENCY must be a number from 1 to 64, not '\(text)'")
            }
            concurrency = value
        }
        return SidecarSettings(
            listenHost: host, listenPort: port, auth: auth, heartbeatURL: heartbeat, heartbeatMethod: method,
            watchdogAlertmanagerURL: alertmanager, maxConcurrency: concurrency,
            stateDirectory: nonEmpty(stateDirectory) ?? nonEmpty(environment["CLEARML_PROBE_STATE_DIR"])
                ?? nonEmpty(configStateDirectory))
    }

    /// `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
    public static func parseListen(_ text: String) throws(Invalid) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw Invalid(description: "listen address '\(text)' must be HOST:PORT (e.g. 127.0.0.1:\(defaultPort))")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        if host == "localhost" { host = "127.0.0.1" }
        return (host, port)
    }

    /// The URL a local `healthcheck` asks: the listen address, with "all interfaces" replaced by loopback.
    public static func healthURL(listen: String) throws(Invalid) -> URL {
        let (host, port) = try parseListen(listen)
        let local = host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "::1" : host)
        let shown = local.contains(":") ? "[\(local)]" : local
        guard let url = URL(string: "http://\(shown):\(port)/healthz") else {
            throw Invalid(description: "cannot make a URL of '\(listen)'")
        }
        return url
    }

    public static var runningInContainer: Bool {
        FileManager.default.fileExists(atPath: "/.dockerenv")
            || FileManager.default.fileExists(atPath: "/run/.containerenv")
            || ProcessInfo.processInfo.environment["container"] != nil
    }

    static func url(_ environment: [String: String], _ name: String) throws(Invalid) -> URL? {
        guard let text = nonEmpty(environment[name]) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw Invalid(description: "\(name) must be an http(s) URL (\(Redact.url(text)))")
        }
        return url
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return text
    }
}
