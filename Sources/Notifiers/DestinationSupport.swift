import Foundation
import ProbeCore

/// A destination's configuration problem; never contains the URL or a token.
public struct DestinationConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Checks shared by the destinations' `validate`.
enum DestinationURL {
    /// An http(s) URL with a host; the error shows only scheme://host[:port].
    static func parse(_ text: String, what: String) throws(DestinationConfigError) -> URLComponents {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            throw DestinationConfigError("\(what): '\(Redact.url(text))' is not an http(s) URL with a host")
        }
        return components
    }
}

/// Reading the hints of an answer.
extension DeliveryResponse {
    /// A header by name, whatever its case.
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }

    /// `Retry-After` in seconds (a number, or an HTTP date relative to now), capped (`RetryAfter`).
    var retryAfter: Double? { RetryAfter.seconds(headers, now: Date()) }

    var json: JSONValue? { JSONValue.parse(Data(body.utf8)) }

    /// The body cut for a dead-letter reason (bounded; a peer's reply is not trusted to be short).
    var bodyExcerpt: String {
        let flat = body.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return Truncation.runes(flat, 200)
    }

    /// The answer classes every platform shares (docs/chat-platforms.md, "Answers"): no answer → retry; 5xx → retry
    /// (after `Retry-After` when given); 408 → retry (the receiver gave up waiting for our request: nothing was
    /// posted, so sending again cannot duplicate); a redirect → permanent (not followed: a webhook URL that moved
    /// must be fixed in the config). Returns nil when the platform's own rules must decide.
    func commonOutcome(platform: String) -> DeliveryOutcome? {
        guard let status else {
            return .retry(after: nil, reason: "\(platform): no answer (\(transportError ?? "connection failed"))")
        }
        if (500...599).contains(status) {
            return .retry(after: retryAfter, reason: "\(platform): HTTP \(status) \(bodyExcerpt)")
        }
        if status == 408 { return .retry(after: retryAfter, reason: "\(platform): HTTP 408 request timeout") }
        if (300...399).contains(status) {
            return .permanent(reason: "\(platform): HTTP \(status) redirect (not followed; fix the URL)")
        }
        return nil
    }
}

/// Reading a destination's settings from the environment (the zero-file setup) with `_FILE` fallbacks.
struct EnvironmentReader {
    let substitution: EnvironmentSubstitution

    func value(_ name: String) throws(DestinationConfigError) -> String? {
        do {
            let value = try substitution.value(of: name)?.trimmingCharacters(in: .whitespacesAndNewlines)
            return value?.isEmpty == false ? value : nil
        } catch {
            throw DestinationConfigError(error.description)
        }
    }
}

extension EnvironmentReader {
    /// A destination's config from its one environment variable (the zero-file setup), nil when the variable is
    /// unset; a config error is prefixed with the variable's name, never its value.
    static func config<Config>(
        _ variable: String, _ substitution: EnvironmentSubstitution,
        _ make: (String) throws(DestinationConfigError) -> Config
    ) throws(DestinationConfigError) -> Config? {
        guard let value = try EnvironmentReader(substitution: substitution).value(variable) else { return nil }
        do { return try make(value) } catch { throw DestinationConfigError("\(variable): \(error.description)") }
    }
}

extension ConfigMap {
    /// A non-empty string a `destinations:` entry must have; else `<path>: '<key>' is required (<what>)`.
    func required(_ key: String, _ what: String? = nil) throws -> String {
        guard let value = try nonEmptyString(key) else {
            throw error(at: nil, "\(path): '\(key)' is required" + (what.map { " (\($0))" } ?? ""))
        }
        return value
    }
}

/// A chat platform whose whole webhook URL is the credential (Teams, Discord, Mattermost, Google Chat).
public protocol WebhookURLDestination: Destination {
    /// The webhook URL, credential included.
    var webhookURL: Secret { get }
}

extension WebhookURLDestination {
    /// scheme://host[:port] only: the rest of the address is (or may carry) the credential.
    public var redactedURL: String { Redact.url(webhookURL.exposed) }
    public var secrets: [Secret] { [webhookURL] }

    /// A 404 means the destination itself is gone (deleted webhook or workflow).
    public func disables(_ response: DeliveryResponse) -> Bool {
        guard let status = response.status else { return false }
        return status == 404
    }
}
