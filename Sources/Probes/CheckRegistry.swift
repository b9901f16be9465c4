import Foundation
import ProbeCore

/// The one place that maps a check id to its kind. The switch is exhaustive, so a new `CheckID` case does not
/// compile until it is registered here.
public enum CheckRegistry {
    public static func plan(_ id: CheckID, options: ConfigMap, config: ProbeConfig) throws -> CheckPlan {
        switch id {
        case .ingressRoutes: try IngressRoutesCheck.plan(options, config)
        case .ingressTLS: try IngressTLSCheck.plan(options, config)
        case .ingressHeaders: try IngressHeadersCheck.plan(options, config)
        case .ingressUploadLimit: try IngressUploadLimitCheck.plan(options, config)
        case .apiserverPing: try ApiserverPingCheck.plan(options, config)
        case .webserverUI: try WebserverUICheck.plan(options, config)
        case .webserverBrowser: try WebserverBrowserCheck.plan(options, config)
        case .apiserverAuth: try ApiserverAuthCheck.plan(options, config)
        case .apiserverLoginMode: try ApiserverLoginModeCheck.plan(options, config)
        case .fileserverRoundtrip: try FileserverRoundtripCheck.plan(options, config)
        case .fileserverVolume: try FileserverVolumeCheck.plan(options, config)
        case .agentsWorkers: try AgentsWorkersCheck.plan(options, config)
        case .queuesBacklog: try QueuesBacklogCheck.plan(options, config)
        case .tasksStale: try TasksStaleCheck.plan(options, config)
        case .redisLatency: try RedisLatencyCheck.plan(options, config)
        case .redisWrite: try RedisWriteCheck.plan(options, config)
        case .redisStatus: try RedisStatusCheck.plan(options, config)
        case .mongoPing: try MongoPingCheck.plan(options, config)
        case .mongoWrite: try MongoWriteCheck.plan(options, config)
        case .mongoStatus: try MongoStatusCheck.plan(options, config)
        case .elasticsearchHealth: try ElasticsearchHealthCheck.plan(options, config)
        }
    }
}

/// A check as configured: its settings and what its kind made of them.
public struct ConfiguredCheck: Sendable {
    public var id: CheckID
    public var settings: CheckSettings
    public var plan: CheckPlan

    public init(id: CheckID, settings: CheckSettings, plan: CheckPlan) {
        self.id = id
        self.settings = settings
        self.plan = plan
    }
}

/// A whole check configuration, loaded and validated: shared sections plus one `ConfiguredCheck` per catalog entry.
public struct LoadedConfig: Sendable {
    public var config: ProbeConfig
    public var checks: [ConfiguredCheck]

    public init(config: ProbeConfig, checks: [ConfiguredCheck]) {
        self.config = config
        self.checks = checks
    }

    /// Parses and validates a document; every error names the file, line and column.
    public static func load(
        yaml: String, file: String, substitution: EnvironmentSubstitution = EnvironmentSubstitution()
    ) throws -> LoadedConfig {
        let root = try ConfigMap.parse(yaml: yaml, file: file, substitution: substitution)
        var config = try ProbeConfig.parse(root)
        try config.readDataStores(root)
        let checksMap = try root.section("checks")
        for key in checksMap.keys where CheckID(rawValue: key) == nil {
            let known = CheckID.allCases.map(\.rawValue).joined(separator: ", ")
            throw checksMap.error(atKey: key, "unknown check '\(key)' (known checks: \(known))")
        }
        var checks: [ConfiguredCheck] = []
        for id in CheckID.allCases {
            let options = try checksMap.section(id.rawValue)
            let settings = try CheckSettings.parse(options, defaults: config.defaults)
            let plan = try CheckRegistry.plan(id, options: options, config: config)
            try options.finish()
            checks.append(ConfiguredCheck(id: id, settings: settings, plan: plan))
        }
        try checksMap.finish()
        try root.finish()
        return LoadedConfig(config: config, checks: QueuesBacklogCheck.linked(checks))
    }
}
