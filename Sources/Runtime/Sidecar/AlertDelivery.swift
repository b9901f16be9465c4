import ServiceLifecycle

/// Runs the alerting pipeline's delivery loop (outbox → destinations) for the life of the sidecar. It stops after
/// the sink delivery has handed over the last report, and the pipeline saves its state when it stops.
public struct AlertDelivery: ServiceLifecycle.Service {
    let pipeline: AlertPipeline

    public init(pipeline: AlertPipeline) { self.pipeline = pipeline }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await pipeline.run() }
    }
}
