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

    /// Direct dependencies: what a service needs to answer (docs/architecture.md, "Topology"; the edges follow the
    /// ClearML server's compose file, docs/compose-facts.md).
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

    /// Services ordered so that every dependency comes before its dependents: derived from `dependencies` by a
    /// depth-first walk in declaration order (dependencies first), so a new service or edge needs no list edited.
    public static let dependencyOrder: [Service] = {
        var order: [Service] = []
        var visiting: Set<Service> = []
        func visit(_ service: Service) {
            guard !order.contains(service), !visiting.contains(service) else { return }  // a cycle is caught by a test
            visiting.insert(service)
            service.dependencies.forEach(visit)
            visiting.remove(service)
            order.append(service)
        }
        allCases.forEach(visit)
        return order
    }()

    /// The place of this service in `dependencyOrder` (dependencies rank lower).
    public var dependencyRank: Int { Self.dependencyRanks[self] ?? Self.allCases.count }

    private static let dependencyRanks: [Service: Int] = Dictionary(
        uniqueKeysWithValues: dependencyOrder.enumerated().map { ($1, $0) })
}
