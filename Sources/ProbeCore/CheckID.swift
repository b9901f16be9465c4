/// Every check of the catalog. A new check kind adds a case here; `CheckRegistry` switches over it exhaustively.
public enum CheckID: String, Codable, Sendable, CaseIterable, Comparable {
    case ingressRoutes = "ingress.routes"
    case ingressTLS = "ingress.tls"
    case ingressHeaders = "ingress.headers"
    case ingressUploadLimit = "ingress.upload_limit"
    case apiserverPing = "apiserver.ping"
    case apiserverAuth = "apiserver.auth"
    case apiserverLoginMode = "apiserver.login_mode"
    case fileserverRoundtrip = "fileserver.roundtrip"
    case fileserverVolume = "fileserver.volume"
    case webserverUI = "webserver.ui"
    case webserverBrowser = "webserver.browser"
    case mongoPing = "mongo.ping"
    case mongoWrite = "mongo.write"
    case mongoStatus = "mongo.status"
    case redisLatency = "redis.latency"
    case redisWrite = "redis.write"
    case redisStatus = "redis.status"
    case elasticsearchHealth = "elasticsearch.health"
    case agentsWorkers = "agents.workers"
    case queuesBacklog = "queues.backlog"
    case tasksStale = "tasks.stale"

    /// The service this check gives evidence of; direct-path results of ingress checks may name another service.
    public var service: Service {
        switch self {
        case .ingressRoutes, .ingressTLS, .ingressHeaders, .ingressUploadLimit: .nginx
        case .apiserverPing, .apiserverAuth, .apiserverLoginMode: .apiserver
        case .fileserverRoundtrip, .fileserverVolume: .fileserver
        case .webserverUI, .webserverBrowser: .webserver
        case .mongoPing, .mongoWrite, .mongoStatus: .mongo
        case .redisLatency, .redisWrite, .redisStatus: .redis
        case .elasticsearchHealth: .elasticsearch
        case .agentsWorkers, .queuesBacklog, .tasksStale: .agents
        }
    }

    public var layer: Layer { service.layer }

    /// The check that proves a store answers at all. When another check of the store gets no answer (refused, timed
    /// out, broken connection) and this one fails too, it is a symptom of it: one dead Redis is one root cause, not
    /// three. A reply from the store (a writeConcernError, MISCONF) proves it answers and depends on nothing.
    public var liveness: CheckID? {
        switch self {
        case .mongoWrite, .mongoStatus: .mongoPing
        case .redisWrite, .redisStatus: .redisLatency
        // Exhaustive: a new check of a store must say whether a connection failure of it is the store's own.
        case .mongoPing, .redisLatency: nil
        case .ingressRoutes, .ingressTLS, .ingressHeaders, .ingressUploadLimit, .apiserverPing, .apiserverAuth,
            .apiserverLoginMode,
            .fileserverRoundtrip, .fileserverVolume, .webserverUI, .webserverBrowser, .elasticsearchHealth,
            .agentsWorkers, .queuesBacklog, .tasksStale:
            nil
        }
    }

    /// What a failure of this check depends on when the store gave no answer: its liveness check (nil otherwise,
    /// so the service's defaults apply).
    public func livenessDependency(noAnswer: Bool) -> [Dependency]? {
        guard noAnswer, let liveness else { return nil }
        return [.check(liveness)]
    }

    /// Checks that write to the watched system; `run --read-only` skips them. Exhaustive, so a new check must
    /// decide: one that writes and said nothing would still run under `--read-only`.
    public var writes: Bool {
        switch self {
        case .fileserverRoundtrip, .mongoWrite, .redisWrite: true
        case .ingressRoutes, .ingressTLS, .ingressHeaders, .apiserverPing, .apiserverAuth, .apiserverLoginMode,
            .fileserverVolume, .webserverUI, .webserverBrowser, .mongoPing, .redisLatency,
            .elasticsearchHealth, .agentsWorkers, .queuesBacklog, .tasksStale:
            false
        // ingress.upload_limit declares a body and sends none of it: nothing reaches the fileserver's storage.
        case .ingressUploadLimit: false
        // redis.status and mongo.status write their sentinel (a key, a document) once; under --read-only they still
        // run and only read it.
        case .redisStatus, .mongoStatus: false
        }
    }

    /// Catalog order, which is also the order of the text report within a layer.
    public static func < (lhs: CheckID, rhs: CheckID) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
