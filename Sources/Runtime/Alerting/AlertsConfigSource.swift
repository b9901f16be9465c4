import Foundation
import Notifiers
import ProbeCore

/// Finds the alerting configuration: `--alerts`, else `CLEARML_PROBE_ALERTS`, else `alerts/alerts.yaml`. A missing
/// default file means the environment alone configures alerting; a file that was named explicitly must exist.
public enum AlertsConfigSource {
    public static let defaultPath = "alerts/alerts.yaml"

    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> AlertsConfig
    {
        let substitution = EnvironmentSubstitution(environment: environment)
        var path = defaultPath
        var required = false
        if let explicit, !explicit.isEmpty {
            path = explicit
            required = true
        } else if let fromEnv = environment["CLEARML_PROBE_ALERTS"], !fromEnv.isEmpty {
            path = fromEnv
            required = true
        }
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw ConfigSource.LoadError(description: "\(path): no such alerts file") }
            return try AlertsConfig.load(yaml: nil, file: "<environment>", substitution: substitution)
        }
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigSource.LoadError(
                description: "\(path): cannot read the alerts file (\(ConfigSource.reason(error)))")
        }
        return try AlertsConfig.load(yaml: yaml, file: path, substitution: substitution)
    }
}
