import Foundation
import Logging
import NativeClients
import ProbeCore
import ServiceLifecycle

/// An always-firing alert for Alertmanager (`ClearMLProbeWatchdog`), re-sent after each complete cycle with an
/// `endsAt` a few cycles ahead. While the sidecar works it keeps firing; when it stops, the alert resolves by
/// itself and a dead man's switch receiver (routed on `alertname`) notices the silence.
public struct AlertmanagerWatchdog: ServiceLifecycle.Service {
    let endpoint: URL
    let validity: Double
    let instance: String
    let http: HTTPClient
    let minimumGap: Double
    let cycles: AsyncStream<CycleInfo>
    let logger: Logger

    /// `url` is Alertmanager's base URL (or its `/api/v2/alerts`); `validity` is how long one sending keeps it firing.
    public init(
        url: URL, validity: Double, events: CycleEvents, instance: String, http: HTTPClient = HTTPClient(),
        minimumGap: Double = 5, logger: Logger = Logger(label: "clearml-probe.watchdog-alert")
    ) {
        endpoint = Self.alertsEndpoint(url)
        self.validity = validity
        self.instance = instance
        self.http = http
        self.minimumGap = minimumGap
        self.logger = logger
        cycles = events.subscribe()
    }

    /// `http://am:9093` → `http://am:9093/api/v2/alerts`; a URL that already names the endpoint is kept.
    public static func alertsEndpoint(_ url: URL) -> URL {
        let path = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        if path.hasSuffix("/api/v2/alerts") { return url }
        return url.appendingPathComponent("api/v2/alerts")
    }

    /// A few cycles ahead, at least two minutes, so a late cycle does not flap the alert.
    public static func validity(intervals: [Double], timeouts: [Double]) -> Double {
        max(120, 4 * ((intervals.max() ?? 30) + (timeouts.max() ?? 3)))
    }

    /// The body Alertmanager's API v2 takes: a list of postable alerts.
    public static func payload(instance: String, startsAt: Date, endsAt: Date) -> Data {
        let alert: [String: Any] = [
            "labels": [
                "alertname": "ClearMLProbeWatchdog", "severity": "none", "instance": instance,
                "source": "clearml-probe",
            ],
            "annotations": [
                "summary": "clearml-probe is alive and checking ClearML.",
                "description":
                    "This alert always fires while the probe works. If it stops, the probe is down or wedged.",
            ],
            "startsAt": ReportJSON.timestamp(startsAt),
            "endsAt": ReportJSON.timestamp(endsAt),
        ]
        return (try? JSONSerialization.data(withJSONObject: [alert], options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("[]".utf8)
    }

    public func run() async throws {
        var lastSent: Date?
        var failing = false
        let startedAt = Date()
        for await cycle in cycles.cancelOnGracefulShutdown() {
            if let lastSent, cycle.at.timeIntervalSince(lastSent) < minimumGap { continue }
            lastSent = cycle.at
            let body = Self.payload(
                instance: instance, startsAt: startedAt, endsAt: cycle.at.addingTimeInterval(validity))
            let request = HTTPRequest(
                method: "POST", url: endpoint, headers: [("Content-Type", "application/json")], body: body,
                connectTimeout: 2, timeout: 5, maxBodyBytes: 4096)
            var error: String?
            switch await http.perform(request) {
            case .success(let response) where (200..<300).contains(response.status): error = nil
            case .success(let response): error = "HTTP \(response.status)"
            case .failure(let failure): error = failure.kind.rawValue
            }
            let metadata: Logger.Metadata = ["probe.alertmanager": "\(Redact.url(endpoint.absoluteString))"]
            if let error, !failing { logger.warning("watchdog alert not accepted: \(error)", metadata: metadata) }
            if error == nil, failing { logger.info("watchdog alert accepted again", metadata: metadata) }
            failing = error != nil
        }
        // The scheduler closed the stream: stay until our own turn to stop (ServiceGroup treats an early return as a
        // failure).
        try? await gracefulShutdown()
    }
}
