import Foundation
import NativeClients
import ProbeCore

/// What `clearml-probe silence` talks to: the running sidecar's `/api/silences` when there is one (so two processes
/// never write the state at once), else `silences.json` in the state directory, under its lock.
public enum SilenceClient {
    public enum Target: Sendable {
        case sidecar(base: String, authorization: Secret?)
        case file(SilenceStore)

        public var description: String {
            switch self {
            case .sidecar(let base, _): "the sidecar at \(Redact.url(base))"
            case .file(let store): store.path
            }
        }
    }

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// `--url` (the sidecar, required to answer), else `CLEARML_PROBE_LISTEN` when something answers there, else the
    /// state directory (`--state-dir` or `CLEARML_PROBE_STATE_DIR`).
    public static func resolve(url: String?, stateDirectory: String?, environment: [String: String]) async throws
        -> Target
    {
        let substitution = EnvironmentSubstitution(environment: environment)
        let authorization = try authorizationHeader(substitution)
        if let url, !url.isEmpty {
            guard let parsed = URL(string: url), parsed.host != nil else {
                throw ClientError("--url '\(Redact.url(url))' is not an http URL")
            }
            return .sidecar(base: trimmed(url), authorization: authorization)
        }
        if let listen = environment["CLEARML_PROBE_LISTEN"], !listen.isEmpty, let base = baseURL(listen: listen) {
            let probe = await send(
                .sidecar(base: base, authorization: authorization), method: "GET", path: SilenceAPI.path, body: nil,
                timeout: 2)
            if case .success = probe { return .sidecar(base: base, authorization: authorization) }
        }
        guard let directory = stateDirectory ?? environment["CLEARML_PROBE_STATE_DIR"], !directory.isEmpty else {
            throw ClientError(
                "no sidecar answers and no state directory is given (use --url, --state-dir or CLEARML_PROBE_STATE_DIR)"
            )
        }
        return .file(SilenceStore(directory: directory))
    }

    /// `host:port` as `serve --listen` takes it → a loopback URL when it listens on every address.
    public static func baseURL(listen: String) -> String? {
        var host = listen
        var port = ""
        if let colon = listen.lastIndex(of: ":") {
            host = String(listen[..<colon])
            port = String(listen[listen.index(after: colon)...])
        }
        guard Int(port) != nil else { return nil }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host.isEmpty || host == "0.0.0.0" || host == "::" { host = "127.0.0.1" }
        if host.contains(":") { host = "[\(host)]" }
        return "http://\(host):\(port)"
    }

    static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    static func authorizationHeader(_ substitution: EnvironmentSubstitution) throws -> Secret? {
        do {
            if let token = try substitution.value(of: "CLEARML_PROBE_HTTP_TOKEN"), !token.isEmpty {
                return Secret("Bearer \(token)")
            }
            if let user = try substitution.value(of: "CLEARML_PROBE_HTTP_USER"), !user.isEmpty {
                let password = try substitution.value(of: "CLEARML_PROBE_HTTP_PASSWORD") ?? ""
                return Secret("Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
            }
            return nil
        } catch {
            throw ClientError(error.description)
        }
    }

    enum Answer { case success(Int, Data), failure(String) }

    static func send(_ target: Target, method: String, path: String, body: Data?, timeout: Double = 10) async -> Answer
    {
        guard case .sidecar(let base, let authorization) = target, let url = URL(string: base + path) else {
            return .failure("not a sidecar")
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let authorization { headers.append(("Authorization", authorization.exposed)) }
        let request = HTTPRequest(
            method: method, url: url, headers: headers, body: body, connectTimeout: min(2, timeout), timeout: timeout)
        switch await HTTPClient().perform(request) {
        case .success(let response): return .success(response.status, response.body)
        case .failure(let failure): return .failure(failure.description)
        }
    }

    static func call(_ target: Target, method: String, path: String, body: Data?) async throws -> Data {
        switch await send(target, method: method, path: path, body: body) {
        case .failure(let reason): throw ClientError("\(target.description): \(reason)")
        case .success(let status, let data):
            guard (200..<300).contains(status) else {
                if status == 401 {
                    throw ClientError("\(target.description) refused the credentials (set CLEARML_PROBE_HTTP_TOKEN)")
                }
                if status == 404, path == SilenceAPI.path {
                    throw ClientError("\(target.description) does not serve \(SilenceAPI.path)")
                }
                throw ClientError(SilenceAPI.decodeError(data) ?? "\(target.description): HTTP \(status)")
            }
            return data
        }
    }

    public static func list(_ target: Target, now: Date = Date()) async throws -> [SilenceAPI.Shown] {
        switch target {
        case .file(let store): return try store.load().silences.map { SilenceAPI.shown($0, now: now) }
        case .sidecar:
            return try SilenceAPI.decodeList(try await call(target, method: "GET", path: SilenceAPI.path, body: nil))
        }
    }

    public static func add(
        _ target: Target, match: String, duration: String, reason: String, createdBy: String?, now: Date = Date()
    ) async throws -> SilenceAPI.Shown {
        switch target {
        case .file(let store):
            let seconds: Double
            do { seconds = try Durations.seconds(duration) } catch { throw ClientError("--for: \(error.description)") }
            let silence = try store.update { silences in
                try silences.add(match: match, duration: seconds, reason: reason, createdBy: createdBy, now: now)
            }
            return SilenceAPI.shown(silence, now: now)
        case .sidecar:
            var object: [String: String] = ["match": match, "for": duration, "reason": reason]
            if let createdBy { object["created_by"] = createdBy }
            let body = try JSONSerialization.data(withJSONObject: object)
            return try SilenceAPI.decodeOne(try await call(target, method: "POST", path: SilenceAPI.path, body: body))
        }
    }

    public static func remove(_ target: Target, id: String, now: Date = Date()) async throws -> SilenceAPI.Shown {
        switch target {
        case .file(let store):
            return SilenceAPI.shown(try store.update { silences in try silences.remove(id: id) }, now: now)
        case .sidecar:
            let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
            return try SilenceAPI.decodeOne(
                try await call(target, method: "DELETE", path: SilenceAPI.path + "/" + escaped, body: nil))
        }
    }

    /// One line per silence, for people.
    public static func describe(_ silence: SilenceAPI.Shown, now: Date) -> String {
        let utc = { (date: Date) in UTCTimestamp.minute(date) + " UTC" }
        let left = silence.expiresAt.timeIntervalSince(now)
        let state =
            silence.active
            ? "until \(utc(silence.expiresAt)) (\(Durations.format(seconds: left.rounded())) left)"
            : (left <= 0 ? "expired \(utc(silence.expiresAt))" : "starts \(utc(silence.createdAt))")
        let by = silence.createdBy.map { " by \($0)" } ?? ""
        return
            "\(silence.id)  \(silence.match.kind.rawValue) \(silence.match.value)  \(state)  \"\(silence.reason)\"\(by)"
    }
}
