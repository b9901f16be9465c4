import ProbeCore

/// What a destination platform is, in one place: its kind, how check output is escaped in its templates, the pace it
/// takes messages at, the environment variables of the zero-file setup, and how a `destinations:` entry is read.
/// The payload (`request(for:now:)`) and the judging of answers (`classify`, `disables`) come from `Destination`.
///
/// A new platform is one file with a type conforming to this protocol, its template `alerts/templates/<kind>.mustache`
/// (embedded by `scripts/embed-default-templates`), its golden payloads, one case and one arm in `DestinationKind`,
/// and its row in the README. See docs/architecture.md, "Adding a destination".
public protocol Platform: Destination {
    /// The `kind:` of its `destinations:` entries and its template's name.
    static var kind: DestinationKind { get }
    /// How `{{values}}` are escaped in its templates.
    static var escaping: TextEscaping { get }
    /// The pace it takes messages at by default (docs/chat-platforms.md); nil: no limit.
    static var pace: RateLimit? { get }
    /// The variables of the zero-file setup, the one that makes the destination first. Each also works as `NAME_FILE`.
    static var environmentVariables: [String] { get }
    /// The destination the environment defines (named after the kind), or nil when its first variable is unset.
    /// Errors name the variable, never its value.
    static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> Self?
    /// A destination from a `destinations:` entry whose `kind` and `name` the caller has read; reads the kind's own
    /// keys (errors located at file:line:column).
    static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws -> Self
}

extension Platform {
    public var kind: DestinationKind { Self.kind }
    public var rateLimit: RateLimit? { Self.pace }
    public func pacingDelay(_ response: DeliveryResponse) -> Double? { nil }
}
