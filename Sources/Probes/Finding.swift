import Foundation
import ProbeCore

/// A finding of a status check: a status and the words for it. The worst finding decides the result.
public struct Finding: Sendable, Equatable {
    public var status: Status
    public var text: String
    public var hint: String?

    public init(_ status: Status, _ text: String, hint: String? = nil) {
        self.status = status
        self.text = text
        self.hint = hint
    }

    /// The status of the worst findings and their words (worst first), or nil when all are OK.
    public static func summarise(_ findings: [Finding]) -> (status: Status, text: String, hint: String?)? {
        let problems = findings.filter { $0.status != .ok }
        guard !problems.isEmpty else { return nil }
        let ordered = problems.enumerated().sorted { a, b in
            a.element.status != b.element.status ? a.element.status > b.element.status : a.offset < b.offset
        }.map(\.element)
        return (
            Status.worst(ordered.map(\.status)), ordered.map(\.text).joined(separator: "; "),
            ordered.first { $0.hint != nil }?.hint
        )
    }
}
