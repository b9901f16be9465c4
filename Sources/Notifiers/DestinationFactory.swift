import Foundation
import ProbeCore

/// Turns a `DestinationKind` into a destination, from `alerts/alerts.yaml` or from the environment (the zero-file
/// setup: one variable per platform makes a destination, docs/alerting.md). Everything kind-specific comes from the
/// kind's `Platform`.
public enum DestinationFactory {
    /// A configuration problem that has no file position (it came from the environment).
    public struct EnvironmentError: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// One entry of `destinations:` (its `kind` and `name` already read).
    public static func make(kind: DestinationKind, name: String, options: ConfigMap, templates: TemplateSet = .builtIn)
        throws -> any Destination
    {
        try kind.platform.parse(options, name: name, template: templates.template(for: kind))
    }

    /// The variable whose presence makes a zero-file destination of this kind.
    public static func environmentVariable(_ kind: DestinationKind) -> String {
        kind.platform.environmentVariables[0]
    }

    /// The destination the environment defines for `kind` (named after the kind), or nil when its variable is unset.
    /// Every variable also works as `NAME_FILE`.
    public static func fromEnvironment(
        _ kind: DestinationKind, _ environment: EnvironmentSubstitution,
        templates: TemplateSet = .builtIn
    ) throws -> (any Destination)? {
        do {
            return try kind.platform.fromEnvironment(environment, template: templates.template(for: kind))
        } catch {
            throw EnvironmentError(error.description)
        }
    }
}
