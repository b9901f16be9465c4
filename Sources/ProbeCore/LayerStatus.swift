/// How one layer stands in a report: its own status (worst of its results that are not symptoms), and the root
/// causes elsewhere that its failing symptoms come from. A layer whose checks fail only because of another layer's
/// root cause is "affected", never shown as OK above failing rows.
public struct LayerStatus: Sendable, Equatable {
    public var layer: Layer
    public var status: Status
    /// Keys of the root causes its failing symptoms point at, in report order.
    public var affectedBy: [String]

    /// True when the layer's own checks pass but some of them fail as symptoms of another root cause.
    public var isAffected: Bool { !affectedBy.isEmpty }

    public static func of(_ layer: Layer, in report: Report) -> LayerStatus? {
        let results = report.results.filter { $0.layer == layer }
        guard !results.isEmpty else { return nil }
        let status = Status.worst(results.filter { $0.role != .symptom }.map(\.status))
        var causes: [String] = []
        for result in results where result.role == .symptom && result.status != .ok {
            if let cause = result.rootCause, !causes.contains(cause) { causes.append(cause) }
        }
        return LayerStatus(layer: layer, status: status, affectedBy: causes)
    }

    public static func all(in report: Report) -> [LayerStatus] { Layer.allCases.compactMap { of($0, in: report) } }
}
