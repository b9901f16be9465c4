import Logging
import ServiceLifecycle

/// Runs the `HTTPServer` for the life of the sidecar and stops it on graceful shutdown.
public struct HTTPService: ServiceLifecycle.Service {
    let server: HTTPServer
    let logger: Logger

    public init(server: HTTPServer, logger: Logger = Logger(label: "clearml-probe.http")) {
        self.server = server
        self.logger = logger
    }

    public func run() async throws {
        server.start()
        logger.info("HTTP endpoint listening", metadata: ["probe.listen": "\(server.host):\(server.port)"])
        try? await gracefulShutdown()
        server.stop()
    }
}
