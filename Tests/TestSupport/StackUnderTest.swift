import Foundation
import NativeClients

/// Everything a real `clearml-probe serve` watches, on loopback, with every check configured: the ClearML double
/// (apiserver, fileserver, webserver) behind a real nginx over HTTPS (host-based routes, hardening headers, a test
/// CA), a real redis-server, the MongoDB double (libmongoc speaks to mockupdb), the Elasticsearch double, and the
/// webhook receiver as the only alert destination. It injects one outage at a time the way the real servers fail
/// and heal, and reads back what a person would have received. Shared by the end-to-end suite (CLITests) and the
/// soak benchmark (`clearml-probe-bench soak`).
public actor StackUnderTest {
    /// The outages, each named after the service a person should be paged about.
    public enum Outage: String, CaseIterable, Sendable, CustomStringConvertible {
        case redis, mongo, elasticsearch, apiserver, fileserver, webserver, ingress

        /// The root cause the page must name: the webhook payload's `service`.
        public var rootCause: String { self == .ingress ? "nginx" : rawValue }

        public var description: String {
            switch self {
            case .redis: "Redis stopped"
            case .mongo: "MongoDB lost by the apiserver"
            case .elasticsearch: "Elasticsearch red"
            case .apiserver: "apiserver stopped"
            case .fileserver: "fileserver stopped"
            case .webserver: "webserver stopped"
            case .ingress: "ingress (nginx) stopped"
            }
        }
    }

    public struct Settings: Sendable {
        /// `clearml-probe` to run.
        public var binary: String
        /// `CLEARML_PROBE_INTERVAL` and `CLEARML_PROBE_GRACE`, in seconds.
        public var interval: Double
        public var grace: Double
        /// How long the apiserver's MongoDB calls wait before failing during the MongoDB outage (pymongo's server
        /// selection, shortened).
        public var mongoDownMilliseconds = 500

        public init(binary: String, interval: Double = 2, grace: Double = 6) {
            self.binary = binary
            self.interval = interval
            self.grace = grace
        }

        /// Bound of the wait for the FIRING after a fault and for the RESOLVED after a heal (the target for the
        /// FIRING is 2 intervals + 5 s; this only bounds the wait).
        public var eventWait: Double { 10 * interval + 10 }
        /// How long a fault stays after its FIRING (several cycles in which nothing else may page).
        public var hold: Double { 3 * interval }
        /// Watched after the RESOLVED (or the end of the wait for it): anything arriving here belongs to the outage.
        public var tail: Double { 3 * interval + 1 }
        /// Watched while healthy before a fault: nothing may arrive.
        public var quietBefore: Double { 2 * interval }
        /// Watched once after start and the grace: nothing may arrive.
        public var startupSilence: Double { 5 * interval }
    }

    public let settings: Settings
    private let clearml: PythonDouble
    private let mongo: PythonDouble
    private let elasticsearch: PythonDouble
    private let receiver: PythonDouble
    private let certificates: TestCertificates
    private let nginxConfig: String
    private let ingressPort: Int
    private let redisPort: Int
    /// Redis' data, kept across "Redis stopped" and its heal: compose runs Redis with AOF, so a restart keeps the
    /// data (and the probe's sentinel in it); without it every heal would be a Redis that came back empty.
    private let redisData: TempDirectory
    private var redis: RedisServer?
    private var nginx: NginxServer?
    private var serve: TestProcess?
    private var servePort = 0
    private let state: TempDirectory
    private var startupQuiet: [WebhookMessage]?
    public private(set) var serveStarts = 0

    public init(_ settings: Settings) throws {
        self.settings = settings
        clearml = try PythonDouble("clearml_double.py")
        mongo = try PythonDouble("mongo_double.py")
        elasticsearch = try PythonDouble("es_double.py")
        receiver = try PythonDouble("webhook_receiver.py")
        state = try TempDirectory("stack-under-test")
        certificates = try TestCertificates()
        let pair = try certificates.issue("ingress", hosts: ["app.test", "api.test", "files.test"])
        redisPort = Ports.free()
        redisData = try TempDirectory("stack-redis-data")
        redis = try Self.startRedis(redisPort, data: redisData)
        ingressPort = Ports.free()
        let api = clearml.port("api")
        let files = clearml.port("files")
        let web = clearml.port("web")
        nginxConfig = """
            server {
                listen 127.0.0.1:\(ingressPort) ssl;
                server_name app.test api.test files.test;
                ssl_certificate \(pair.cert);
                ssl_certificate_key \(pair.key);
                server_tokens off;
                client_max_body_size 0;
                proxy_connect_timeout 1s;
                proxy_read_timeout 10s;
                proxy_set_header Host $host;
                add_header X-Content-Type-Options nosniff always;
                add_header X-Frame-Options SAMEORIGIN always;
                add_header Referrer-Policy strict-origin-when-cross-origin always;
                add_header Strict-Transport-Security "max-age=31536000" always;
                location / {
                    if ($host = api.test) { proxy_pass http://127.0.0.1:\(api); }
                    if ($host = files.test) { proxy_pass http://127.0.0.1:\(files); }
                    proxy_pass http://127.0.0.1:\(web);
                }
            }
            """
        nginx = try NginxServer(httpBlock: nginxConfig, waitPort: ingressPort)
    }

    // MARK: - serve

    /// The environment a user would give the sidecar: every check's address, a short interval and grace, a state
    /// directory and nothing but the generic webhook.
    private var serveEnvironment: [String: String] {
        [
            "CLEARML_PROBE_CONFIG": "", "CLEARML_PROBE_ALERTS": "",
            "CLEARML_PROBE_INSTANCE": "e2e",
            "CLEARML_PROBE_INTERVAL": Self.duration(settings.interval),
            "CLEARML_PROBE_GRACE": Self.duration(settings.grace),
            // fileserver.volume: a tmpfs with room to spare stands in for the fileserver's volume.
            "CLEARML_PROBE_FILESERVER_VOLUME": FileManager.default.fileExists(atPath: "/dev/shm")
                ? "/dev/shm" : NSTemporaryDirectory(),
            "CLEARML_PROBE_STATE_DIR": state.path,
            "CLEARML_PROBE_APISERVER_URL": clearml.url("api").absoluteString,
            "CLEARML_PROBE_WEBSERVER_URL": clearml.url("web").absoluteString,
            "CLEARML_PROBE_FILESERVER_URL": clearml.url("files").absoluteString,
            "CLEARML_WEB_HOST": "https://app.test", "CLEARML_API_HOST": "https://api.test",
            "CLEARML_FILES_HOST": "https://files.test",
            "CLEARML_PROBE_INGRESS_CONNECT_TO": "127.0.0.1:\(ingressPort)",
            "CLEARML_PROBE_CA_FILE": certificates.caCertificate,
            "CLEARML_API_ACCESS_KEY": "probe-key", "CLEARML_API_SECRET_KEY": "probe-secret",
            "CLEARML_MONGODB_SERVICE_CONNECTION_STRING": "",
            "CLEARML_MONGODB_SERVICE_HOST": "127.0.0.1", "CLEARML_MONGODB_SERVICE_PORT": "\(mongo.port("mongo"))",
            "CLEARML_REDIS_SERVICE_HOST": "127.0.0.1", "CLEARML_REDIS_SERVICE_PORT": "\(redisPort)",
            "CLEARML_REDIS_SERVICE_PASSWORD": "",
            "CLEARML_ELASTIC_SERVICE_HOST": "127.0.0.1", "CLEARML_ELASTIC_SERVICE_PORT": "\(elasticsearch.port("es"))",
            "CLEARML_PROBE_ALERT_WEBHOOK_URL": "http://127.0.0.1:\(receiver.port("webhook"))/hooks/clearml",
        ]
    }

    /// Starts everything healthy (once), waits until serve reports OK, then watches the receiver for a while after
    /// the grace. Returns what arrived while the healthy stack was watched (nothing, when the sidecar is right).
    @discardableResult
    public func prepare() async throws -> [WebhookMessage] {
        if let startupQuiet { return startupQuiet }
        try await clearml.control("/reset", [:])
        try await mongo.control("/reset", [:])
        try await elasticsearch.control("/reset", [:])
        try await receiver.control("/reset", [:])
        let startedAt = Date()
        try startServe()
        let healthy = try await waitHealthy(timeout: settings.grace + settings.eventWait)
        guard healthy.ok else {
            throw TestSupportError("the stack did not become healthy: \(healthy.detail)\n\(serveLog())")
        }
        try await sleep(until: startedAt.addingTimeInterval(settings.grace + settings.interval))
        let quiet = try await observe(for: settings.startupSilence)
        startupQuiet = quiet
        return quiet
    }

    private func startServe() throws {
        servePort = Ports.free()
        serveStarts += 1
        serve = try TestProcess(
            "serve-\(serveStarts)", executable: settings.binary,
            arguments: ["serve", "--listen", "127.0.0.1:\(servePort)"],
            env: serveEnvironment, currentDirectory: state.path)
        do {
            try Ports.waitListening(servePort, timeout: 20)
        } catch {
            throw TestSupportError("serve did not listen: \(serve?.stderrTail() ?? "")")
        }
    }

    /// Empties serve's state directory (alert state, outbox, tokens): what a first start finds.
    private func forgetServeState() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: state.path) {
            try FileManager.default.removeItem(atPath: state.file(name))
        }
    }

    /// `kill -9` of serve: no shutdown, no last save.
    private func killServe() {
        guard let serve else { return }
        let pid = serve.process.processIdentifier
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while !TestProcess.hasExited(pid) && Date() < deadline { usleep(10_000) }
        self.serve = nil
    }

    public func serveLog(_ count: Int = 4000) -> String { serve?.stderrTail(count) ?? "" }

    /// serve's alerting state file as it is on disk now (incidents and each key's alert state), for a report.
    public func alertingStateText() -> String {
        (try? String(contentsOfFile: state.file("alerting.json"), encoding: .utf8)) ?? "(no alerting.json)"
    }

    /// `/status` of serve, decoded.
    public func status() async -> [String: Any]? {
        let request = HTTPRequest(
            url: URL(string: "http://127.0.0.1:\(servePort)/status")!, timeout: 3, maxBodyBytes: 4 << 20)
        guard case .success(let response) = await HTTPClient().perform(request), response.status == 200 else {
            return nil
        }
        return try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
    }

    /// `/metrics` of serve, as text.
    public func metricsText() async -> String? {
        let request = HTTPRequest(
            url: URL(string: "http://127.0.0.1:\(servePort)/metrics")!, timeout: 3, maxBodyBytes: 4 << 20)
        guard case .success(let response) = await HTTPClient().perform(request), response.status == 200 else {
            return nil
        }
        return response.text
    }

    /// The check ids serve reports results for (`ingress.routes/api` counts as `ingress.routes`).
    public func reportedCheckIDs() async -> Set<String> {
        let checks = await status()?["checks"] as? [[String: Any]] ?? []
        return Set(checks.compactMap { ($0["key"] as? String)?.split(separator: "/").first.map(String.init) })
    }

    /// Polls `/status` until the overall status is `ok`; `detail` lists what was not OK at the last look.
    public func waitHealthy(timeout: Double) async throws -> (ok: Bool, detail: String) {
        let deadline = Date().addingTimeInterval(timeout)
        var detail = "no /status answer"
        while Date() < deadline {
            if let document = await status() {
                let overall = document["status"] as? String ?? "?"
                if overall == "ok" { return (true, "ok") }
                let checks = document["checks"] as? [[String: Any]] ?? []
                let bad = checks.filter { ($0["status"] as? String) != "ok" }
                    .map {
                        "\($0["key"] as? String ?? "?")=\($0["status"] as? String ?? "?") (\($0["summary"] as? String ?? ""))"
                    }
                detail = "status \(overall): " + bad.joined(separator: "; ")
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        return (false, detail)
    }

    // MARK: - Faults

    /// Breaks one service as it breaks in a real stack.
    public func inject(_ outage: Outage) async throws {
        switch outage {
        case .redis:
            // The real apiserver and fileserver stay up and answer from their Redis errors.
            redis?.stop()
            redis = nil
            try await clearml.control("/scenario", ["api": "redis_down"])
        case .mongo:
            try await mongo.control("/scenario", ["scenario": "down"])
            try await clearml.control("/scenario", ["api": "mongo_down:\(settings.mongoDownMilliseconds)"])
        case .elasticsearch:
            try await elasticsearch.control("/scenario", ["scenario": "red"])
        case .apiserver:
            try await clearml.control("/scenario", ["api": "down"])
        case .fileserver:
            try await clearml.control("/scenario", ["files": "down"])
        case .webserver:
            // The ingress stays up: its web route answers 502, as nginx does for a refused upstream.
            try await clearml.control("/scenario", ["web": "down"])
        case .ingress:
            nginx?.stop()
            nginx = nil
            let deadline = Date().addingTimeInterval(5)
            while Ports.canConnect(ingressPort) && Date() < deadline { usleep(20_000) }
            if Ports.canConnect(ingressPort) {
                throw TestSupportError("nginx still listens on \(ingressPort) after stop")
            }
        }
    }

    /// Brings the service back (the same ports).
    public func heal(_ outage: Outage) async throws {
        switch outage {
        case .redis:
            if redis == nil { redis = try Self.startRedis(redisPort, data: redisData) }
            try await clearml.control("/scenario", ["api": "ok"])
        case .mongo:
            try await mongo.control("/scenario", ["scenario": "ok"])
            try Ports.waitListening(mongo.port("mongo"))
            try await clearml.control("/scenario", ["api": "ok"])
        case .elasticsearch:
            try await elasticsearch.control("/scenario", ["scenario": "green"])
        case .apiserver:
            try await clearml.control("/scenario", ["api": "ok"])
        case .fileserver:
            try await clearml.control("/scenario", ["files": "ok"])
        case .webserver:
            try await clearml.control("/scenario", ["web": "ok"])
        case .ingress:
            if nginx == nil { nginx = try NginxServer(httpBlock: nginxConfig, waitPort: ingressPort) }
        }
    }

    // MARK: - One outage

    /// How serve lives through an outage.
    public enum ServeRestart: Sendable, CustomStringConvertible {
        /// It runs throughout.
        case none
        /// `kill -9` once the FIRING arrived (or its wait ran out), started again with the same state directory
        /// while the fault holds.
        case killedAfterFiring
        /// Stopped while healthy, its state directory emptied, and started for the first time while the fault
        /// holds: a sidecar deployed (or its volume lost) in the middle of an outage, with nothing it said before.
        case startedDuringFault

        public var description: String {
            switch self {
            case .none: ""
            case .killedAfterFiring: " (serve killed -9 after the FIRING)"
            case .startedDuringFault: " (serve started fresh during the fault)"
            }
        }
    }

    /// Healthy → fault → (FIRING) → the fault held a few cycles → heal → (RESOLVED) → a quiet tail; every wait
    /// bounded. `restart` says whether serve is killed or first started during the fault.
    public func run(_ outage: Outage, restart: ServeRestart = .none) async throws -> OutageRecord {
        try await prepare()
        let healthy = try await waitHealthy(timeout: settings.eventWait)
        let quietStart = try await receivedCount()
        try await sleep(until: Date().addingTimeInterval(settings.quietBefore))
        let start = try await receivedCount()
        let beforeFault = try await messages(since: quietStart)
        if restart == .startedDuringFault {
            killServe()
            try forgetServeState()
        }
        let faultAt = Date()
        try await inject(outage)
        if restart == .startedDuringFault { try startServe() }
        let firingWait = settings.eventWait + (restart == .startedDuringFault ? settings.grace : 0)
        _ = try await waitMessages(since: start, timeout: firingWait) { messages in
            messages.contains { $0.event == "firing" && $0.service == outage.rootCause }
        }
        var holdUntil = Date().addingTimeInterval(settings.hold)
        if restart == .killedAfterFiring {
            killServe()
            try startServe()
            holdUntil = Date().addingTimeInterval(settings.grace + settings.hold)
        }
        try await sleep(until: holdUntil)
        let healAt = Date()
        try await heal(outage)
        _ = try await waitMessages(since: start, timeout: settings.eventWait) { messages in
            let fired = Set(messages.filter { $0.event == "firing" }.map(\.incidentID))
            let resolved = Set(messages.filter { $0.event == "resolved" }.map(\.incidentID))
            return !fired.isEmpty && fired.isSubset(of: resolved)
        }
        try await sleep(until: Date().addingTimeInterval(settings.tail))
        return OutageRecord(
            outage: outage, healthyBefore: healthy.ok ? nil : healthy.detail, beforeFault: beforeFault,
            faultAt: faultAt, healAt: healAt, messages: try await messages(since: start),
            restart: restart)
    }

    // MARK: - The receiver

    public func receivedCount() async throws -> Int { try await receiver.requests().count }

    /// Every request the receiver got after the first `count`, as messages.
    public func messages(since count: Int) async throws -> [WebhookMessage] {
        try await receiver.requests().dropFirst(count).map(WebhookMessage.init)
    }

    /// Polls the receiver until `done` holds for what arrived after `count`, or `timeout` passed.
    public func waitMessages(
        since count: Int, timeout: Double,
        until done: @Sendable ([WebhookMessage]) -> Bool
    ) async throws -> [WebhookMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let received = try await messages(since: count)
            if done(received) || Date() >= deadline { return received }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// What arrives within `seconds` from now.
    public func observe(for seconds: Double) async throws -> [WebhookMessage] {
        let start = try await receivedCount()
        try await sleep(until: Date().addingTimeInterval(seconds))
        return try await messages(since: start)
    }

    private func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
    }

    /// `2s`, `1500ms`: a duration as the config reads it.
    static func duration(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(Int((seconds * 1000).rounded()))ms"
    }

    public func stop() {
        killServe()
        nginx?.stop()
        redis?.stop()
        for double in [clearml, mongo, elasticsearch, receiver] { double.stop() }
        certificates.directory.remove()
        state.remove()
        redisData.remove()
    }

    /// redis-server as compose runs it: AOF on (fsync every second), in a data directory that outlives the process.
    static func startRedis(_ port: Int, data: TempDirectory) throws -> RedisServer {
        try RedisServer(
            port: port, arguments: ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", data.path])
    }
}

/// One request the webhook receiver got, read as the generic webhook's payload
/// (`{"type": "incident.<event>", "data": {"event", "service", "incident_id", "title", …}}`).
public struct WebhookMessage: Sendable, CustomStringConvertible {
    public let seq: Int
    public let receivedAt: Date
    /// `firing`, `resolved`, `reminder`, `flapping`, `test`; `unreadable` when the body is not that payload.
    public let event: String
    public let service: String
    public let incidentID: String
    public let title: String

    init(_ request: [String: Any]) {
        seq = (request["seq"] as? NSNumber)?.intValue ?? -1
        receivedAt = Date(timeIntervalSince1970: (request["time"] as? NSNumber)?.doubleValue ?? 0)
        let body = (request["body_text"] as? String).flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let data = body?["data"] as? [String: Any]
        event = data?["event"] as? String ?? "unreadable"
        service = data?["service"] as? String ?? "?"
        incidentID = data?["incident_id"] as? String ?? "?"
        title = data?["title"] as? String ?? (request["body_text"] as? String).map { String($0.prefix(80)) } ?? ""
    }

    public var description: String { "\(event.uppercased()) service=\(service) incident=\(incidentID) \"\(title)\"" }
}

/// What one outage produced, and how it compares with what a person should get: one FIRING naming the root cause,
/// one RESOLVED of the same incident after the heal, nothing else.
public struct OutageRecord: Sendable, CustomStringConvertible {
    public let outage: StackUnderTest.Outage
    /// Why the stack was not healthy before the fault (nil: it was).
    public let healthyBefore: String?
    /// What arrived while the healthy stack was watched just before the fault (should be nothing).
    public let beforeFault: [WebhookMessage]
    public let faultAt: Date
    public let healAt: Date
    /// Everything from the fault to the end of the quiet tail after the heal.
    public let messages: [WebhookMessage]
    public let restart: StackUnderTest.ServeRestart

    public var firings: [WebhookMessage] { messages.filter { $0.event == "firing" } }
    /// The first FIRING naming the right service.
    public var firing: WebhookMessage? { firings.first { $0.service == outage.rootCause } }
    /// That incident's RESOLVED, when it came after the heal.
    public var resolved: WebhookMessage? {
        guard let firing else { return nil }
        return messages.first {
            $0.event == "resolved" && $0.incidentID == firing.incidentID && $0.receivedAt >= healAt
        }
    }
    public var wrongService: [WebhookMessage] { messages.filter { $0.service != outage.rootCause } }
    public var secondsToFiring: Double? { firing.map { $0.receivedAt.timeIntervalSince(faultAt) } }
    public var secondsToResolved: Double? { resolved.map { $0.receivedAt.timeIntervalSince(healAt) } }
    public var extra: [WebhookMessage] { messages.filter { $0.seq != firing?.seq && $0.seq != resolved?.seq } }

    /// Exactly one FIRING naming the root cause, then exactly its RESOLVED, nothing before the fault.
    public var asWanted: Bool {
        beforeFault.isEmpty && messages.count == 2 && messages.first?.seq == firing?.seq && resolved != nil
    }

    public var description: String { report.split(separator: "\n").first.map(String.init) ?? "" }

    /// A few lines a person can read when a run fails.
    public var report: String {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "never" }
        var lines = [
            "\(outage)\(restart): \(messages.count) message(s), "
                + "\(wrongService.count) for another service than \(outage.rootCause); FIRING after \(seconds(secondsToFiring)), "
                + "RESOLVED \(seconds(secondsToResolved)) after the heal\(asWanted ? "" : " — NOT as wanted")"
        ]
        if let healthyBefore { lines.append("  not healthy before the fault: \(healthyBefore)") }
        for message in beforeFault { lines.append("  before the fault: \(message)") }
        for message in messages {
            let at =
                message.receivedAt < healAt
                ? String(format: "fault+%.1fs", message.receivedAt.timeIntervalSince(faultAt))
                : String(format: "heal+%.1fs", message.receivedAt.timeIntervalSince(healAt))
            lines.append("  \(at) \(message)")
        }
        return lines.joined(separator: "\n")
    }
}
