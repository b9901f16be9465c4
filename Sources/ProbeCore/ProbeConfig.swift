import Foundation

/// The parts of `probes/clearml.yaml` every check shares. Check-specific keys are read by each check kind.
public struct ProbeConfig: Sendable {
    public var file: String
    /// Names what the probe writes (`.clearml-probe/<instance>/`, Redis keys, Mongo documents).
    public var instance: String
    public var defaults: CheckSettings
    public var stateDirectory: String?
    public var ingress: IngressEndpoints
    public var services: ServiceEndpoints
    public var credentials: Credentials?
    /// MongoDB, Redis and Elasticsearch, read by `readDataStores` (DataStoreConfig.swift).
    public var dataStores = DataStores()
    /// Every secret the config holds, for redaction of anything printed.
    public var secrets: [Secret]

    public struct IngressEndpoints: Sendable {
        /// Public addresses as the SDK knows them (`CLEARML_WEB_HOST` …); nil when not configured.
        public var web: URL?
        public var api: URL?
        public var files: URL?
        /// `host:port` to reach the ingress at while Host and SNI stay the public name.
        public var connectTo: String?
        public var caFile: String?
        public var insecure: Bool

        public init(
            web: URL? = nil, api: URL? = nil, files: URL? = nil, connectTo: String? = nil, caFile: String? = nil,
            insecure: Bool = false
        ) {
            self.web = web
            self.api = api
            self.files = files
            self.connectTo = connectTo
            self.caFile = caFile
            self.insecure = insecure
        }
    }

    public struct ServiceEndpoints: Sendable {
        public var apiserver: URL?
        public var webserver: URL?
        public var fileserver: URL?

        public init(apiserver: URL? = nil, webserver: URL? = nil, fileserver: URL? = nil) {
            self.apiserver = apiserver
            self.webserver = webserver
            self.fileserver = fileserver
        }
    }

    public struct Credentials: Sendable {
        public var accessKey: Secret
        public var secretKey: Secret
        /// Seconds a session token is reused before the next `auth.login` (footprint: a login at most this often).
        public var tokenReuse: Double
        /// The `expiration_sec` asked of `auth.login`: short, so a token that leaks dies soon.
        public var tokenLifetime: Double

        public init(accessKey: Secret, secretKey: Secret, tokenReuse: Double = 600, tokenLifetime: Double = 3600) {
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.tokenReuse = tokenReuse
            self.tokenLifetime = tokenLifetime
        }
    }

    public init(
        file: String = "<test>", instance: String = "test", defaults: CheckSettings = CheckSettings(),
        stateDirectory: String? = nil, ingress: IngressEndpoints = .init(), services: ServiceEndpoints = .init(),
        credentials: Credentials? = nil, secrets: [Secret] = []
    ) {
        self.file = file
        self.instance = instance
        self.defaults = defaults
        self.stateDirectory = stateDirectory
        self.ingress = ingress
        self.services = services
        self.credentials = credentials
        self.secrets = secrets + (credentials.map { [$0.accessKey, $0.secretKey] } ?? [])
    }

    /// Reads the shared sections (`probe`, `ingress`, `services`, `credentials`) from the root of the document.
    /// The caller reads `checks` and any other section, then calls `root.finish()`.
    public static func parse(_ root: ConfigMap) throws -> ProbeConfig {
        let probe = try root.section("probe")
        let instance = try probe.string("instance", default: "clearml-probe")
        guard !instance.isEmpty, instance.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw probe.error(
                key: "instance",
                "'\(instance)' must be letters, digits, '-', '_' or '.' (it names files the probe writes)")
        }
        let defaults = try CheckSettings.parse(probe, defaults: CheckSettings())
        let stateDirectory = try probe.nonEmptyString("state_dir")
        try probe.finish()

        let ingressMap = try root.section("ingress")
        let ingress = IngressEndpoints(
            web: try ingressMap.url("web_url"), api: try ingressMap.url("api_url"),
            files: try ingressMap.url("files_url"),
            connectTo: try ingressMap.nonEmptyString("connect_to"), caFile: try ingressMap.nonEmptyString("ca_file"),
            insecure: try ingressMap.bool("insecure", default: false))
        if let connectTo = ingress.connectTo, !Self.isHostPort(connectTo) {
            throw ingressMap.error(key: "connect_to", "'\(connectTo)' must be host:port")
        }
        try ingressMap.finish()

        let servicesMap = try root.section("services")
        let services = ServiceEndpoints(
            apiserver: try servicesMap.url("apiserver_url"), webserver: try servicesMap.url("webserver_url"),
            fileserver: try servicesMap.url("fileserver_url"))
        try servicesMap.finish()

        let credentialsMap = try root.section("credentials")
        let accessKey = try credentialsMap.secret("access_key")
        let secretKey = try credentialsMap.secret("secret_key")
        if (accessKey == nil) != (secretKey == nil) {
            throw credentialsMap.error(
                key: accessKey == nil ? "access_key" : "secret_key",
                "access_key and secret_key must be given together (CLEARML_API_ACCESS_KEY, CLEARML_API_SECRET_KEY)")
        }
        let tokenReuse = try credentialsMap.duration("token_reuse", default: 600, minimum: 0.1)
        let tokenLifetime = try credentialsMap.duration("token_lifetime", default: 3600, minimum: 60)
        guard tokenLifetime <= 31_536_000 else {
            throw credentialsMap.error(
                key: "token_lifetime", "must be at most 365d (the apiserver's max_expiration_sec)")
        }
        guard tokenReuse + 60 <= tokenLifetime else {
            throw credentialsMap.error(
                key: "token_reuse",
                "must be at least 1 min shorter than token_lifetime (\(Durations.format(seconds: tokenLifetime)))")
        }
        try credentialsMap.finish()
        let credentials = accessKey.flatMap { key in
            secretKey.map {
                Credentials(accessKey: key, secretKey: $0, tokenReuse: tokenReuse, tokenLifetime: tokenLifetime)
            }
        }

        return ProbeConfig(
            file: root.file, instance: instance, defaults: defaults, stateDirectory: stateDirectory,
            ingress: ingress, services: services, credentials: credentials)
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return false
        }
        return colon != text.startIndex && (1...65535).contains(port)
    }
}

/// The settings every check has: whether it runs, its deadline, its cadence, and when "slow" becomes a warning.
public struct CheckSettings: Sendable, Equatable {
    public var enabled: Bool
    /// The check's whole deadline, in seconds; its steps share it.
    public var timeout: Double
    /// Seconds between runs in the sidecar.
    public var interval: Double
    /// A check slower than this is a warning (docs/data-stores.md: any check slower than 1 s).
    public var slowWarning: Double

    public init(enabled: Bool = true, timeout: Double = 3, interval: Double = 30, slowWarning: Double = 1) {
        self.enabled = enabled
        self.timeout = timeout
        self.interval = interval
        self.slowWarning = slowWarning
    }

    /// Reads `enabled`, `timeout`, `interval` and `slow` from `map`, falling back to `defaults`.
    public static func parse(_ map: ConfigMap, defaults: CheckSettings) throws -> CheckSettings {
        let settings = CheckSettings(
            enabled: try map.bool("enabled", default: defaults.enabled),
            timeout: try map.duration("timeout", default: defaults.timeout, minimum: 0.01),
            interval: try map.duration("interval", default: defaults.interval, minimum: 0.01),
            slowWarning: try map.duration("slow", default: defaults.slowWarning, minimum: 0.001))
        return settings
    }
}
