/// The stack's layers, as tokens for `--only`.
public enum Layer: String, Codable, Sendable, CaseIterable {
    case ingress, application, data, execution
}

/// A node of the topology: one service of the stack. One incident is opened per root-cause service.
public enum Service: String, Codable, Sendable, CaseIterable {
    case nginx, webserver, apiserver, fileserver, mongo, redis, elasticsearch, agents

    public var layer: Layer {
        switch self {
        case .nginx: .ingress
        case .webserver, .apiserver, .fileserver: .application
        case .mongo, .redis, .elasticsearch: .data
        case .agents: .execution
        }
    }

    /// Direct dependencies (design.md, service edges).
    public var dependencies: [Service] {
        switch self {
        case .nginx: [.webserver, .apiserver, .fileserver]
        case .webserver: [.apiserver, .fileserver]
        case .fileserver: [.apiserver, .redis]
        case .apiserver: [.mongo, .redis, .elasticsearch]
        case .agents: [.apiserver]
        case .mongo, .redis, .elasticsearch: []
        }
    }

    /// A name for people ("MongoDB", "the apiserver").
    public var displayName: String {
        switch self {
        case .nginx: "nginx ingress"
        case .webserver: "webserver"
        case .apiserver: "apiserver"
        case .fileserver: "fileserver"
        case .mongo: "MongoDB"
        case .redis: "Redis"
        case .elasticsearch: "Elasticsearch"
        case .agents: "agents"
        }
    }

    /// Services ordered so that every dependency comes before its dependents.
    public static let dependencyOrder: [Service] = [.mongo, .redis, .elasticsearch, .apiserver, .fileserver, .webserver, .nginx, .agents]
}
