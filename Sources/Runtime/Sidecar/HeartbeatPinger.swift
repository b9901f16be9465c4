import Foundation
import Logging
import NativeClients
import ProbeCore
import ServiceLifecycle

/// A dead man's switch: calls a URL (healthchecks.io, Uptime Kuma push, a cron monitor) after each complete cycle,
/// so a stopped or wedged sidecar is noticed by something outside it. Never blocks the scheduler: it keeps only the
/// newest cycle it has not handled, with a short timeout per call and at most one call per `minimumGap`.
/// The URL usually carries a token, so logs show only its scheme and host.
public struct HeartbeatPinger: ServiceLifecycle.Service {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    let url: URL
    let method: Method
    let http: HTTPClient
    let timeout: Double
    let minimumGap: Double
    let instance: String
    let cycles: AsyncStream<CycleInfo>
    let logger: Logger

    public init(
        url: URL, method: Method = .get, events: CycleEvents, instance: String, http: HTTPClient = HTTPClient(),
        timeout: Double = 5, minimumGap: Double = 5, logger: Logger = Logger(label: "clearml-probe.heartbeat")
    ) {
        self.url = url
        self.method = method
        self.http = http
        self.timeout = timeout
        self.minimumGap = minimumGap
        self.instance = instance
        self.logger = logger
        cycles = events.subscribe()
    }

    public func run() async throws {
        var lastSent: Date?
        var failing = false
        for await cycle in cycles.cancelOnGracefulShutdown() {
            if let lastSent, Date().timeIntervalSince(lastSent) < minimumGap { continue }
            lastSent = Date()
            let error = await ping(cycle)
            let metadata: Logger.Metadata = [
                "probe.heartbeat": "\(Redact.url(url.absoluteString))", "probe.cycle": "\(cycle.number)",
            ]
            if let error {
                if !failing { logger.warning("heartbeat failed: \(error)", metadata: metadata) }
                failing = true
            } else {
                if failing { logger.info("heartbeat delivered again", metadata: metadata) }
                failing = false
            }
        }
        // The scheduler closed the stream: stay until our own turn to stop (ServiceGroup treats an early return as a
        // failure).
        try? await gracefulShutdown()
    }

    /// Nil when the receiver answered 2xx.
    func ping(_ cycle: CycleInfo) async -> String? {
        var request = HTTPRequest(
            method: method.rawValue, url: url, connectTimeout: min(2, timeout), timeout: timeout, maxBodyBytes: 1024)
        if method == .post {
            request.headers = [("Content-Type", "application/json")]
            let body: [String: Any] = [
                "instance": instance, "cycle": cycle.number, "status": cycle.status,
                "at": ReportJSON.timestamp(cycle.at),
            ]
            request.body = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        }
        switch await http.perform(request) {
        case .success(let response):
            return (200..<300).contains(response.status) ? nil : "HTTP \(response.status)"
        case .failure(let failure):
            return Redact.stripUserinfo(failure.description).replacingOccurrences(
                of: url.absoluteString, with: Redact.url(url.absoluteString))
        }
    }
}
