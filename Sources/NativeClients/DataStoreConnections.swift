import Foundation

/// The process's persistent connections, one per data store (docs/footprint.md: "one persistent client per
/// data store"). Checks of one store share its connection; sessions on it run one after another on its queue.
public final class DataStoreConnections: @unchecked Sendable {
    // @unchecked: the dictionaries are only touched while holding `lock`.
    public static let shared = DataStoreConnections()

    private let lock = NSLock()
    private var redis: [RedisEndpoint: RedisConnection] = [:]
    private var mongo: [MongoEndpoint: MongoConnection] = [:]

    public init() {}

    public func redis(_ endpoint: RedisEndpoint) -> RedisConnection {
        lock.withLock {
            if let existing = redis[endpoint] { return existing }
            let made = RedisConnection(endpoint: endpoint)
            redis[endpoint] = made
            return made
        }
    }

    public func mongo(_ endpoint: MongoEndpoint) -> MongoConnection {
        lock.withLock {
            if let existing = mongo[endpoint] { return existing }
            let made = MongoConnection(endpoint: endpoint)
            mongo[endpoint] = made
            return made
        }
    }
}
