/// Recent durations per result key for the status page's sparklines: a fixed ring per key, and only keys of the
/// latest report are kept, so memory stays flat however long the sidecar runs.
public struct LatencyHistory: Sendable, Equatable {
    public let capacity: Int
    private var rings: [String: Ring] = [:]

    struct Ring: Sendable, Equatable {
        var values: [Double] = []
        var next = 0

        mutating func append(_ value: Double, capacity: Int) {
            if values.count < capacity {
                values.append(value)
            } else {
                values[next] = value
            }
            next = (next + 1) % capacity
        }

        /// Oldest first: until the ring is full the values are in order; after that the oldest is at `next`.
        func ordered(capacity: Int) -> [Double] {
            values.count < capacity || next == 0 ? values : Array(values[next...] + values[..<next])
        }
    }

    public init(capacity: Int = 60) { self.capacity = max(2, capacity) }

    public mutating func record(_ key: String, milliseconds: Double) {
        rings[key, default: Ring()].append(milliseconds, capacity: capacity)
    }

    /// Oldest first.
    public func values(_ key: String) -> [Double] { rings[key]?.ordered(capacity: capacity) ?? [] }

    public mutating func retain(keys: Set<String>) {
        rings = rings.filter { keys.contains($0.key) }
    }

    public var keyCount: Int { rings.count }
}
