import Foundation

/// The shared `mongo`, `redis` and `elasticsearch` sections: one definition of each store for all its checks, with
/// the apiserver's own environment variables as defaults (docs/architecture.md, "Interfaces"). A store with no address is nil,
/// and its checks are "not configured".
public struct DataStores: Sendable {
    public var mongo: MongoStore?
    public var redis: RedisStore?
    public var elasticsearch: ElasticsearchStore?

    public init(mongo: MongoStore? = nil, redis: RedisStore? = nil, elasticsearch: ElasticsearchStore? = nil) {
        self.mongo = mongo
        self.redis = redis
        self.elasticsearch = elasticsearch
    }

    public var secrets: [Secret] {
        [mongo?.uri, mongo?.password, redis?.password, elasticsearch?.password].compactMap { $0 }
    }
}

public struct MongoStore: Sendable {
    /// The whole connection string; it may carry a password, so it is a secret.
    public var uri: Secret
    /// The password inside `uri`, for redaction of anything a peer echoes.
    public var password: Secret?

    public init(uri: String) {
        self.uri = Secret(uri)
        self.password = MongoStore.password(in: uri).map(Secret.init)
    }

    /// `mongo:27017` for messages.
    public var display: String {
        guard let schemeEnd = uri.exposed.range(of: "://") else { return "<mongodb uri>" }
        var rest = uri.exposed[schemeEnd.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(rest)
    }

    static func password(in uri: String) -> String? {
        guard let schemeEnd = uri.range(of: "://") else { return nil }
        var authority = uri[schemeEnd.upperBound...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" }) { authority = authority[..<end] }
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return nil
        }
        let raw = String(authority[authority.index(after: colon)..<at])
        return raw.isEmpty ? nil : (raw.removingPercentEncoding ?? raw)
    }
}

public struct RedisStore: Sendable {
    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+); nil: `AUTH <password>` alone.
    public var username: String?
    public var password: Secret?
    public var database: Int

    public init(host: String, port: Int = 6379, username: String? = nil, password: Secret? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public var display: String { "\(host):\(port)" }
}

public struct ElasticsearchStore: Sendable {
    public var url: URL
    public var username: String?
    public var password: Secret?

    public init(url: URL, username: String? = nil, password: Secret? = nil) {
        self.url = url
        self.username = username
        self.password = password
    }

    public var display: String { "\(url.host ?? "?"):\(url.port ?? (url.scheme == "https" ? 443 : 80))" }
}

extension ProbeConfig {
    /// Reads the `mongo`, `redis` and `elasticsearch` sections (strictly) into `dataStores` and their secrets
    /// into `secrets`.
    public mutating func readDataStores(_ root: ConfigMap) throws {
        dataStores = DataStores(
            mongo: try MongoStore.parse(root.section("mongo")),
            redis: try RedisStore.parse(root.section("redis")),
            elasticsearch: try ElasticsearchStore.parse(root.section("elasticsearch")))
        secrets += dataStores.secrets
    }
}

extension MongoStore {
    /// `uri`: a `mongodb://` or `mongodb+srv://` connection string; empty means not configured.
    public static func parse(_ map: ConfigMap) throws -> MongoStore? {
        let uri = try map.nonEmptyString("uri")
        try map.finish()
        guard let uri else { return nil }
        guard uri.hasPrefix("mongodb://") || uri.hasPrefix("mongodb+srv://") else {
            throw map.error(
                key: "uri", "'\(Redact.stripUserinfo(uri))' is not a mongodb:// or mongodb+srv:// connection string")
        }
        let store = MongoStore(uri: uri)
        guard !store.display.isEmpty else { throw map.error(key: "uri", "the connection string names no host") }
        return store
    }
}

extension RedisStore {
    /// `host`, `port`, `username`, `password`, `db`; an empty host means not configured.
    public static func parse(_ map: ConfigMap) throws -> RedisStore? {
        let host = try map.nonEmptyString("host")
        let port = try map.int("port", default: 6379, range: 1...65535)
        let username = try map.nonEmptyString("username")
        let password = try map.secret("password")
        let database = try map.int("db", default: 0, range: 0...1_000_000)
        try map.finish()
        if username != nil, password == nil {
            throw map.error(key: "username", "an ACL user needs a password (redis.password)")
        }
        guard let host else { return nil }
        guard !host.contains("/"), !host.contains(" ") else {
            throw map.error(key: "host", "'\(host)' is not a host name or address")
        }
        return RedisStore(host: host, port: port, username: username, password: password, database: database)
    }
}

extension ElasticsearchStore {
    /// `host`, `port`, `scheme`, `username`, `password`; an empty host means not configured.
    public static func parse(_ map: ConfigMap) throws -> ElasticsearchStore? {
        let host = try map.nonEmptyString("host")
        let port = try map.int("port", default: 9200, range: 1...65535)
        let scheme = try map.string("scheme", default: "http")
        let username = try map.nonEmptyString("username")
        let password = try map.secret("password")
        try map.finish()
        guard scheme == "http" || scheme == "https" else {
            throw map.error(key: "scheme", "'\(scheme)' must be http or https")
        }
        if (username == nil) != (password == nil) {
            throw map.error(
                key: username == nil ? "password" : "username",
                "username and password must be given together (CLEARML_ELASTIC_SERVICE_USERNAME, CLEARML_ELASTIC_SERVICE_PASSWORD)"
            )
        }
        guard let host else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let url = URL(string: "\(scheme)://\(shownHost):\(port)"), url.host != nil else {
            throw map.error(key: "host", "'\(host)' is not a host name or address")
        }
        return ElasticsearchStore(url: url, username: username, password: password)
    }
}
