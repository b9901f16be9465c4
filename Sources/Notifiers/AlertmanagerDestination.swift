import Foundation
import ProbeCore

/// Prometheus Alertmanager API v2: a JSON array of one alert per incident, labels
/// `alertname/service/layer/severity/instance`, text in annotations (docs/chat-platforms.md, "Alertmanager").
///
/// Alertmanager forgets an alert when its `endsAt` passes, so a firing alert carries `endsAt = now + 4 × resend
/// interval` and must be re-sent every resend interval while it fires (`needsResend`); a RESOLVED carries
/// `endsAt` = the resolution time and is re-sent for 15 minutes (Alertmanager keeps no state across its restarts).
public struct AlertmanagerConfig: Sendable, Equatable {
    public var name: String
    /// The API endpoint (`…/api/v2/alerts`), built from the base URL; no userinfo.
    public var url: String
    /// Basic auth from the URL's userinfo, sent as a header.
    public var basicAuth: Secret?
    /// How often a firing alert is re-posted (Prometheus' `--rules.alert.resend-delay`, 1m).
    public var resendInterval: Double

    public static let environmentVariable = "CLEARML_PROBE_ALERT_ALERTMANAGER_URL"
    public static let apiPath = "/api/v2/alerts"

    public init(name: String = "alertmanager", url: String, resendInterval: Double = 60) throws(DestinationConfigError)
    {
        self.name = name
        var components = try DestinationURL.parse(url, what: "alertmanager '\(name)' url")
        if let user = components.user {
            let credential =
                "\(user.removingPercentEncoding ?? user):\((components.password ?? "").removingPercentEncoding ?? "")"
            basicAuth = Secret("Basic " + Data(credential.utf8).base64EncodedString())
            components.user = nil
            components.password = nil
        } else {
            basicAuth = nil
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix(Self.apiPath) { path += Self.apiPath }
        components.path = path
        self.url = components.string ?? url
        self.resendInterval = resendInterval
        try validate()
    }

    public func validate() throws(DestinationConfigError) {
        _ = try DestinationURL.parse(url, what: "alertmanager '\(name)' url")
        guard resendInterval >= 5, resendInterval <= 3600 else {
            throw DestinationConfigError("alertmanager '\(name)': resend_interval must be between 5s and 1h")
        }
    }

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution) throws(DestinationConfigError)
        -> AlertmanagerConfig?
    {
        try EnvironmentReader.config(environmentVariable, substitution) { url throws(DestinationConfigError) in
            try AlertmanagerConfig(url: url)
        }
    }

    /// Reads `url` and `resend_interval` from a `destinations:` entry.
    public static func parse(_ map: ConfigMap, name: String) throws -> AlertmanagerConfig {
        let url = try map.required("url", "the Alertmanager base URL, e.g. http://alertmanager:9093")
        let interval = try map.duration("resend_interval", default: 60, minimum: 5)
        let config: AlertmanagerConfig
        do { config = try AlertmanagerConfig(name: name, url: url, resendInterval: interval) } catch {
            throw map.error(key: error.description.contains("resend") ? "resend_interval" : "url", error.description)
        }
        try map.finish()
        return config
    }
}

public struct AlertmanagerDestination: Destination, Platform {
    public static let kind = DestinationKind.alertmanager
    public static let escaping = TextEscaping.plain
    /// Its own API with no limit: none.
    public static let pace: RateLimit? = nil
    public static let environmentVariables = [AlertmanagerConfig.environmentVariable]

    public static func fromEnvironment(_ substitution: EnvironmentSubstitution, template: MessageTemplate)
        throws(DestinationConfigError) -> AlertmanagerDestination?
    {
        try AlertmanagerConfig.fromEnvironment(substitution).map {
            AlertmanagerDestination(config: $0, template: template)
        }
    }

    public static func parse(_ map: ConfigMap, name: String, template: MessageTemplate) throws
        -> AlertmanagerDestination
    {
        AlertmanagerDestination(config: try AlertmanagerConfig.parse(map, name: name), template: template)
    }

    public let config: AlertmanagerConfig
    public let template: MessageTemplate

    /// `endsAt` of a firing alert: this many resend intervals ahead (Prometheus uses 4).
    public static let endsAtIntervals = 4.0
    /// A RESOLVED is re-sent this long after the resolution.
    public static let resolvedResendWindow = 15 * 60.0

    public init(config: AlertmanagerConfig, template: MessageTemplate = .builtIn(.alertmanager)) {
        self.config = config
        self.template = template
    }

    public var name: String { config.name }
    /// scheme://host[:port] only: the rest of the address is (or may carry) the credential.
    public var redactedURL: String { Redact.url(config.url) }
    public var secrets: [Secret] { [config.basicAuth].compactMap { $0 } }

    public func request(for message: AlertMessage, now: Date) throws -> OutgoingRequest {
        var headers = ["Content-Type": "application/json"]
        if let auth = config.basicAuth { headers["Authorization"] = auth.exposed }
        return OutgoingRequest(
            url: config.url, headers: headers,
            body: Self.payload(message, text: template.render(message), now: now, resendInterval: config.resendInterval)
                .data)
    }

    /// `endsAt` for a message sent at `now`: the resolution time for a RESOLVED, else now + 4 × resend interval.
    public static func endsAt(for message: AlertMessage, now: Date, resendInterval: Double) -> Date {
        if message.event == .resolved { return message.resolvedAt ?? now }
        return now.addingTimeInterval(endsAtIntervals * resendInterval)
    }

    /// Whether the pipeline should post `message` again at `now`, having last posted it at `lastSent`: a firing
    /// (or reminder, flapping) alert every resend interval while its incident is open; a RESOLVED every resend
    /// interval for 15 minutes after its resolution. The pipeline calls `request(for:now:)` again: `endsAt` moves.
    public func needsResend(_ message: AlertMessage, lastSent: Date, now: Date) -> Bool {
        guard now.timeIntervalSince(lastSent) >= config.resendInterval else { return false }
        switch message.event {
        case .test: return false
        case .resolved: return now.timeIntervalSince(message.resolvedAt ?? lastSent) < Self.resolvedResendWindow
        case .firing, .reminder, .flapping: return true
        }
    }

    /// The severities a RESOLVED is posted for: Alertmanager identifies an alert by its labels, the severity changes
    /// while an incident escalates, and a RESOLVED message no longer carries the severity that fired; resolving a
    /// label set that never fired notifies nobody.
    public static let resolvedSeverities: [Status] = [.critical, .unknown, .warning]

    public static func payload(_ message: AlertMessage, text: RenderedText, now: Date, resendInterval: Double)
        -> PayloadJSON
    {
        if message.event == .resolved {
            return .array(
                resolvedSeverities.map {
                    alert(message, severity: $0.rawValue, text: text, now: now, resendInterval: resendInterval)
                })
        }
        let severity = message.event == .test ? "info" : message.severity.rawValue
        return [alert(message, severity: severity, text: text, now: now, resendInterval: resendInterval)]
    }

    static func alert(_ message: AlertMessage, severity: String, text: RenderedText, now: Date, resendInterval: Double)
        -> PayloadJSON
    {
        let test = message.event == .test
        let labels: PayloadJSON = .object([
            ("alertname", test ? "ClearMLProbeTest" : "ClearMLProbeIncident"),
            ("service", .string(message.service.rawValue)),
            ("layer", .string(message.service.layer.rawValue)),
            ("severity", .string(severity)),
            ("instance", .string(message.instance)),
        ])
        let annotations = PayloadJSON.compact([
            ("summary", .string(Truncation.runes(text.title, 1024))),
            ("description", text.lines.isEmpty ? nil : .string(Truncation.runes(text.body, 8_000))),
            ("hint", message.hint.map { .string(Truncation.runes($0, 1000)) }),
            ("incident", .string(message.incidentID)),
            ("status_url", message.statusURL.map { .string($0) }),
        ])
        let alert = PayloadJSON.compact([
            ("labels", labels),
            ("annotations", annotations),
            ("startsAt", .string(MessageText.timestamp(test ? now : message.startedAt))),
            ("endsAt", .string(MessageText.timestamp(endsAt(for: message, now: now, resendInterval: resendInterval)))),
            ("generatorURL", message.statusURL.map { .string($0) }),
        ])
        return alert
    }

    /// Any 2xx success; 400 (validation) is permanent; 429 and 5xx retry; 401/403/404 (auth proxy, wrong path) are
    /// permanent.
    public func classify(_ response: DeliveryResponse) -> DeliveryOutcome {
        if let common = response.commonOutcome(platform: "alertmanager") { return common }
        let status = response.status ?? 0
        if (200...299).contains(status) { return .delivered }
        if status == 429 { return .retry(after: response.retryAfter, reason: "alertmanager: HTTP 429") }
        var reason = "alertmanager: HTTP \(status) \(response.bodyExcerpt)".trimmingCharacters(in: .whitespaces)
        if status == 404 { reason += " (is the URL an Alertmanager with API v2? v1 was removed in 0.27)" }
        return .permanent(reason: reason)
    }
}
