/// The verdict of one check result, and of a whole report.
///
/// Raw values are the JSON words of the interface contract; `exitCode` follows the monitoring-plugin convention.
public enum Status: String, Codable, Sendable, CaseIterable, Comparable {
    case ok, warning, critical, unknown

    /// Severity for "worst of": a blind probe (`unknown`) outranks a warning, nothing outranks a confirmed outage.
    public var severity: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .unknown: 2
        case .critical: 3
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .ok: 0
        case .warning: 1
        case .critical: 2
        case .unknown: 3
        }
    }

    public static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }

    /// The worst of a sequence, `.ok` when empty.
    public static func worst<S: Sequence>(_ statuses: S) -> Status where S.Element == Status {
        statuses.max() ?? .ok
    }

    public var label: String { rawValue.uppercased() }
}
