import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Who may change silences through the endpoint, before `SilenceAPI` sees the request.
///
/// A silence mutes alerts for up to 30 days, so changing one is guarded even on an internal network:
/// - a credential (`CLEARML_PROBE_HTTP_TOKEN`, or basic credentials) when one is configured; without one, only a
///   client on the loopback interface (the `clearml-probe silence` CLI inside the container);
/// - `Content-Type: application/json` on a body: a web page can POST `text/plain` across sites without a CORS
///   preflight, never `application/json`;
/// - an `Origin`, when the client sends one (browsers do on every cross-site POST and DELETE), of the same host and
///   port as `Host`;
/// - a `Host` naming this endpoint: a loopback name, an IP address, the listen address, the machine's host name or
///   one of `CLEARML_PROBE_HTTP_ALLOWED_HOSTS`. A DNS-rebinding page reaches the endpoint under the attacker's own
///   name, which is none of these.
/// Reading (`GET`) needs only the credential, like the other routes.
public struct SilenceGuard: Sendable, Equatable {
    /// Host names (lowercased, without port or brackets) a mutating request may name in `Host`.
    public var allowedHosts: Set<String>

    public static let environmentVariable = "CLEARML_PROBE_HTTP_ALLOWED_HOSTS"

    public init(
        listenHost: String = "127.0.0.1", extraHosts: [String] = [],
        machineHostName: String? = SilenceGuard.machineHostName()
    ) {
        var hosts: Set<String> = ["localhost", "127.0.0.1", "::1"]
        let listen = listenHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if !listen.isEmpty, listen != "0.0.0.0", listen != "::" { hosts.insert(listen) }
        if let machineHostName, !machineHostName.isEmpty { hosts.insert(machineHostName.lowercased()) }
        for host in extraHosts {
            let name = Self.split(authority: host.trimmingCharacters(in: .whitespaces)).host
            if !name.isEmpty { hosts.insert(name) }
        }
        allowedHosts = hosts
    }

    /// `CLEARML_PROBE_HTTP_ALLOWED_HOSTS`: names separated by commas or spaces (`clearml-probe, probe.internal`).
    public static func hosts(environment: [String: String]) -> [String] {
        (environment[environmentVariable] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    public static func machineHostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Why a request may not change silences (status and message), or nil when it may.
    public func refusal(_ request: HTTPRequestHead, auth: HTTPAuth) -> (status: Int, message: String)? {
        guard request.method != "GET", request.method != "HEAD" else { return nil }
        if !auth.isEnabled, !request.fromLoopback {
            return (
                403,
                "changing silences from another host needs a credential: set CLEARML_PROBE_HTTP_TOKEN for the sidecar and the client"
            )
        }
        guard let hostHeader = request.header("host"), !hostHeader.isEmpty else {
            return (403, "a request that changes silences needs a Host header")
        }
        let host = Self.split(authority: hostHeader)
        guard allows(host: host.host) else {
            return (
                403,
                "Host '\(hostHeader.prefix(100))' does not name this endpoint; add it to \(Self.environmentVariable) if it does"
            )
        }
        if let origin = request.header("origin") {
            guard let parsed = Self.origin(origin),
                parsed.host == host.host, parsed.port == (host.port ?? parsed.defaultPort)
            else {
                return (
                    403,
                    "Origin '\(origin.prefix(100))' is not this endpoint: silences cannot be changed from another site"
                )
            }
        }
        if request.method == "POST" || !request.body.isEmpty {
            let type = request.header("content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
                .lowercased()
            guard type == "application/json" else {
                return (415, "send the body as Content-Type: application/json")
            }
        }
        return nil
    }

    func allows(host: String) -> Bool {
        allowedHosts.contains(host) || Self.isIPAddress(host)
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// `Host`'s value → lowercased host name without brackets, and the port when given.
    static func split(authority: String) -> (host: String, port: Int?) {
        let text = authority.lowercased()
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return (text, nil) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            return (String(text[..<colon]), Int(text[text.index(after: colon)...]))
        }
        return (text, nil)
    }

    /// `Origin: http://host:port` → its host, port and the scheme's default port; nil for `null` or anything else.
    static func origin(_ text: String) -> (host: String, port: Int, defaultPort: Int)? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        let defaultPort: Int
        let rest: Substring
        if lower.hasPrefix("http://") {
            defaultPort = 80
            rest = lower.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            defaultPort = 443
            rest = lower.dropFirst(8)
        } else {
            return nil
        }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return nil }
        let (host, port) = split(authority: String(rest))
        guard !host.isEmpty else { return nil }
        return (host, port ?? defaultPort, defaultPort)
    }
}
