import Logging
import ServiceLifecycle

/// Hands every merged report to every `ReportSink` (the alerting pipeline), one report at a time, in order.
///
/// It does not stop on graceful shutdown by itself: it drains the queue, which the scheduler closes once its last
/// run has been merged, so the final results still reach the sinks before the state is flushed.
public struct SinkDelivery: ServiceLifecycle.Service {
    let queue: ReportQueue
    let sinks: [any ReportSink]

    public init(queue: ReportQueue, sinks: [any ReportSink]) {
        self.queue = queue
        self.sinks = sinks
    }

    public func run() async throws {
        for await item in queue.stream {
            for sink in sinks { await sink.ingest(item.report, at: item.at) }
        }
        // The scheduler closed the stream: stay until our own turn to stop (ServiceGroup treats an early return as a
        // failure).
        try? await gracefulShutdown()
    }
}
