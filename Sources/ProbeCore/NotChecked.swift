/// Something the report could not check, and why: not configured, filtered out, or skipped.
public struct NotChecked: Sendable, Codable, Equatable {
    public var id: CheckID
    public var reason: String

    public init(id: CheckID, reason: String) {
        self.id = id
        self.reason = reason
    }
}
