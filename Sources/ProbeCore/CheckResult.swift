import Foundation

/// What a failing result may be explained by: every result of a service, or every result of one check.
public enum Dependency: Hashable, Sendable, Codable {
    case service(Service)
    case check(CheckID)
    /// One result, by key: a later step of a check over its first step (the UI's proxies over the UI itself).
    case result(String)
}

/// One result of one check against one target.
///
/// Checks fill what they saw; the engine stamps timing and the analysis fills `role` and `rootCause`.
public struct CheckResult: Sendable, Codable, Equatable {
    /// `<id>` or `<id>/<target>`: unique within a report.
    public var key: String
    public var id: CheckID
    /// The topology node this result is evidence of.
    public var service: Service
    public var target: String
    public var status: Status
    /// One line a person can act on.
    public var summary: String
    /// What to do about it, when the check knows.
    public var hint: String?
    /// Numbers with the unit in the name (`p99_ms`, `heap_used_percent`).
    public var metrics: [String: Double]
    /// HTTP phase timings in milliseconds (`dns`, `connect`, `tls`, `first_byte`, `total`).
    public var timings: [String: Double]
    /// The error, already redacted.
    public var error: String?
    /// A bounded excerpt of what the peer answered.
    public var evidence: String?
    public var startedAt: Date
    public var durationMs: Double
    /// What a failure here may be a symptom of; defaults to the service's topology edges.
    public var dependsOn: [Dependency]
    /// The failure is "could not connect from where the probe runs", not proof the service is down.
    public var reachabilityFailure: Bool
    /// An OK result here proves these services work (e.g. `apiserver.auth` proves MongoDB and Redis serve the API).
    public var provides: [Service]
    /// Filled by the analysis.
    public var role: Role
    /// Filled by the analysis: the key of the root cause this is a symptom of.
    public var rootCause: String?

    public enum Role: String, Sendable, Codable {
        case healthy
        case rootCause = "root_cause"
        /// A failure whose dependencies could not all be checked.
        case unconfirmedRootCause = "unconfirmed_root_cause"
        case symptom
        /// Its service cannot be reached from the probe, while another check proves the service works.
        case unreachableFromProbe = "unreachable_from_probe"
    }

    public init(
        id: CheckID, service: Service? = nil, target: String = "", status: Status, summary: String,
        hint: String? = nil, metrics: [String: Double] = [:], timings: [String: Double] = [:],
        error: String? = nil, evidence: String? = nil, startedAt: Date = Date(), durationMs: Double = 0,
        dependsOn: [Dependency]? = nil, reachabilityFailure: Bool = false, provides: [Service] = []
    ) {
        let service = service ?? id.service
        self.key = target.isEmpty ? id.rawValue : "\(id.rawValue)/\(target)"
        self.id = id
        self.service = service
        self.target = target
        self.status = status
        self.summary = summary
        self.hint = hint
        self.metrics = metrics
        self.timings = timings
        self.error = error
        self.evidence = evidence.map { Evidence.excerpt($0) }
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.dependsOn = dependsOn ?? service.dependencies.map(Dependency.service)
        self.reachabilityFailure = reachabilityFailure
        self.provides = provides
        self.role = .healthy
        self.rootCause = nil
    }

    public var layer: Layer { id.layer }
}

/// Keeps evidence bounded so a chatty peer cannot bloat a report or a message.
public enum Evidence {
    public static let maxCharacters = 512

    public static func excerpt(_ text: String, limit: Int = maxCharacters) -> String {
        let printable = String(
            text.unicodeScalars.map { scalar -> Character in
                if scalar == "\n" || scalar == "\t" { return Character(" ") }
                return scalar.value < 0x20 || scalar.value == 0x7F ? "." : Character(scalar)
            })
        let collapsed = printable.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        guard collapsed.count > limit else { return collapsed }
        return String(collapsed.prefix(limit)) + "…"
    }
}
