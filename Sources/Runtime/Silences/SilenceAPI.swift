import Foundation
import ProbeCore

/// The sidecar's silence endpoints, as plain functions the HTTP server mounts (so only one process, the sidecar,
/// writes its state while it runs; `clearml-probe silence` talks to it):
///
/// | Request | Answer |
/// |---|---|
/// | `GET /api/silences` | 200 `{"silences": [SILENCE…]}` (active and recently expired, oldest first) |
/// | `POST /api/silences` with `{"match": "redis", "for": "2h", "reason": "…", "created_by": "ops"?}` | 201 `{"silence": SILENCE}`; 400 `{"error": "…"}` |
/// | `DELETE /api/silences/<id>` (or a unique id prefix) | 200 `{"silence": SILENCE}`; 404 `{"error": "…"}` |
///
/// `SILENCE` = `{"id", "match": {"kind": "check|service|layer", "value"}, "reason", "created_at", "expires_at",
/// "created_by"?, "active"}`; times are RFC 3339 UTC. Other methods → 405; other paths → nil (not ours). The body
/// of a POST is read by the server (Content-Length, at most `maxBody` bytes). The routes apply the auth and
/// `SilenceGuard` first. When `Silences.cap` silences are active or pending, a new one is refused (507), never made
/// room for by dropping one.
public struct SilenceAPI: Sendable {
    public static let path = "/api/silences"
    public static let maxBody = 16 * 1024

    public let store: SilenceStore
    public let clock: @Sendable () -> Date

    public init(store: SilenceStore, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: Data
        public var contentType: String { "application/json" }
        public var allow: String? { status == 405 ? "GET, POST, DELETE" : nil }

        public init(status: Int, body: Data) {
            self.status = status
            self.body = body
        }
    }

    /// A silence as the API shows it.
    public struct Shown: Codable, Sendable, Equatable {
        public var id: String
        public var match: Silence.Matcher
        public var reason: String
        public var createdAt: Date
        public var expiresAt: Date
        public var createdBy: String?
        public var active: Bool

        init(_ silence: Silence, now: Date) {
            id = silence.id
            match = silence.matcher
            reason = silence.reason
            createdAt = silence.createdAt
            expiresAt = silence.expiresAt
            createdBy = silence.createdBy
            active = silence.isActive(at: now)
        }

        enum CodingKeys: String, CodingKey {
            case id, match, reason
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case createdBy = "created_by"
            case active
        }
    }

    struct List: Codable { var silences: [Shown] }
    struct One: Codable { var silence: Shown }
    struct Failure: Codable { var error: String }
    struct AddRequest: Codable {
        var match: String
        var `for`: String
        var reason: String
        var createdBy: String?
        enum CodingKeys: String, CodingKey {
            case match, `for`, reason
            case createdBy = "created_by"
        }
    }

    /// Answers a request for `/api/silences…`, or nil for any other path.
    public func handle(method: String, path: String, body: Data = Data()) -> Response? {
        let now = clock()
        if path == Self.path || path == Self.path + "/" {
            switch method {
            case "GET", "HEAD": return list(now: now)
            case "POST": return add(body, now: now)
            default: return Response(status: 405, body: Self.json(Failure(error: "use GET or POST on \(Self.path)")))
            }
        }
        guard path.hasPrefix(Self.path + "/") else { return nil }
        let id = String(path.dropFirst(Self.path.count + 1)).removingPercentEncoding ?? ""
        guard method == "DELETE" else {
            return Response(status: 405, body: Self.json(Failure(error: "use DELETE on \(Self.path)/<id>")))
        }
        return remove(id, now: now)
    }

    func list(now: Date) -> Response {
        do {
            let silences = try store.load().silences.map { Shown($0, now: now) }
            return Response(status: 200, body: Self.json(List(silences: silences)))
        } catch {
            return Response(status: 500, body: Self.json(Failure(error: "\(error)")))
        }
    }

    func add(_ body: Data, now: Date) -> Response {
        guard body.count <= Self.maxBody else {
            return Response(status: 413, body: Self.json(Failure(error: "body too large")))
        }
        let request: AddRequest
        do {
            request = try JSONDecoder().decode(AddRequest.self, from: body)
        } catch {
            return Response(
                status: 400, body: Self.json(Failure(error: "expected {\"match\": …, \"for\": \"2h\", \"reason\": …}")))
        }
        let duration: Double
        do {
            duration = try Durations.seconds(request.for)
        } catch {
            return Response(status: 400, body: Self.json(Failure(error: "for: \(error.description)")))
        }
        do {
            let silence = try store.update { silences in
                try silences.add(
                    match: request.match, duration: duration, reason: request.reason, createdBy: request.createdBy,
                    now: now)
            }
            return Response(status: 201, body: Self.json(One(silence: Shown(silence, now: now))))
        } catch let failure as Silences.Failure {
            return Response(status: failure.isFull ? 507 : 400, body: Self.json(Failure(error: failure.description)))
        } catch {
            return Response(status: 500, body: Self.json(Failure(error: "\(error)")))
        }
    }

    func remove(_ id: String, now: Date) -> Response {
        do {
            let removed = try store.update { silences in try silences.remove(id: id) }
            return Response(status: 200, body: Self.json(One(silence: Shown(removed, now: now))))
        } catch let failure as Silences.Failure {
            return Response(status: 404, body: Self.json(Failure(error: failure.description)))
        } catch {
            return Response(status: 500, body: Self.json(Failure(error: "\(error)")))
        }
    }

    /// `{"error": message}`, as every refusal of the API reads.
    public static func errorBody(_ message: String) -> Data { json(Failure(error: message)) }

    static func json<T: Encodable>(_ value: T) -> Data {
        (try? Silences.encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// Decodes what the API returns (for the CLI).
    public static func decodeList(_ data: Data) throws -> [Shown] {
        try Silences.decoder.decode(List.self, from: data).silences
    }
    public static func decodeOne(_ data: Data) throws -> Shown {
        try Silences.decoder.decode(One.self, from: data).silence
    }
    public static func decodeError(_ data: Data) -> String? {
        try? Silences.decoder.decode(Failure.self, from: data).error
    }
    public static func shown(_ silence: Silence, now: Date) -> Shown { Shown(silence, now: now) }
}
