import Foundation
import ProbeCore

/// The alerting configuration: `alerts/alerts.yaml` (strict, every error located) plus the zero-file destinations of
/// the environment. Without a file the environment alone configures alerting.
public struct AlertsConfig: Sendable {
    /// The file read, or nil when the configuration came from the environment only.
    public var file: String?
    public var policy: AlertPolicy
    public var destinations: [any Destination]
    /// `routes:`: which destinations each incident goes to (default: every destination).
    public var routes: AlertRoutes = .everything
    /// `maintenance:`: planned windows in which incidents do not page.
    public var maintenance: MaintenancePlan = MaintenancePlan()
    /// `templates:`: message templates per destination kind (default: the built-in ones).
    public var templates: TemplateSet = .builtIn

    public init(file: String? = nil, policy: AlertPolicy = AlertPolicy(), destinations: [any Destination] = []) {
        self.file = file
        self.policy = policy
        self.destinations = destinations
    }

    /// Every credential, for redacting anything printed.
    public var secrets: [Secret] { destinations.flatMap(\.secrets) }

    /// Reads `yaml` (nil: no file) and adds the environment's destinations.
    public static func load(yaml: String?, file: String, substitution: EnvironmentSubstitution) throws -> AlertsConfig {
        var config = AlertsConfig(file: yaml == nil ? nil : file)
        var names: [String: String] = [:]
        var document: ConfigMap?
        if let yaml {
            let root = try ConfigMap.parse(yaml: yaml, file: file, substitution: substitution)
            document = root
            config.policy = try AlertPolicy.parse(try root.section("alerting"))
            config.templates = try TemplateSet.parse(
                try root.section("templates"), baseDirectory: (file as NSString).deletingLastPathComponent)
            config.maintenance = try MaintenancePlan.parse(root)
            for entry in try root.maps("destinations") ?? [] {
                guard try entry.nonEmptyString("kind") != nil else {
                    throw entry.error(
                        at: nil,
                        "\(entry.path): 'kind' is required (one of: \(DestinationKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                let kind = try entry.choice("kind", default: DestinationKind.slack)
                let name = try entry.string("name", default: kind.rawValue)
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw entry.error(key: "name", "'\(name)' must be letters, digits, '-', '_' or '.'")
                }
                if names[name] != nil {
                    throw entry.error(key: "name", "another destination is already named '\(name)'")
                }
                names[name] = entry.path
                config.destinations.append(
                    try DestinationFactory.make(kind: kind, name: name, options: entry, templates: config.templates))
                try entry.finish()
            }
        } else {
            config.policy = try AlertPolicy.parse(
                try ConfigMap.parse(yaml: "", file: "<environment>", substitution: substitution))
        }
        for kind in DestinationKind.allCases {
            guard
                let destination = try DestinationFactory.fromEnvironment(
                    kind, substitution, templates: config.templates)
            else { continue }
            if let place = names[destination.name] {
                throw DestinationFactory.EnvironmentError(
                    "\(DestinationFactory.environmentVariable(kind)) makes a destination named '\(destination.name)', "
                        + "but \(file) already has one (\(place)); rename that one")
            }
            names[destination.name] = DestinationFactory.environmentVariable(kind)
            config.destinations.append(destination)
        }
        if let root = document {
            // After the environment's destinations, so routes may name them too.
            config.routes = try AlertRoutes.parse(
                try root.section("routes"), destinations: Set(config.destinations.map(\.name)))
            try root.finish()
        }
        return config
    }
}
