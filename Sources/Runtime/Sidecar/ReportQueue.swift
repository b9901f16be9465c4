import Foundation
import ProbeCore

/// Merged reports on their way to the sinks, in order. Bounded: if a sink falls far behind, the oldest reports are
/// dropped, which loses nothing a sink needs because every report carries the latest result of every check.
public final class ReportQueue: Sendable {
    public struct Item: Sendable {
        public var report: Report
        public var at: Date
    }

    let stream: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation

    public init(capacity: Int = 32) {
        (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(capacity))
    }

    public func enqueue(_ report: Report, at date: Date) { continuation.yield(Item(report: report, at: date)) }

    public func finish() { continuation.finish() }
}
