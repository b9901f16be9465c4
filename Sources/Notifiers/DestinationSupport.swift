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

    /// `Retry-After` in seconds (a number, or an HTTP date relative to now).
    var retryAfter: Double? {
        guard let value = header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: value) { return max(0, date.timeIntervalSinceNow) }
        return nil
    }

    var json: JSONValue? { JSONValue.parse(Data(body.utf8)) }

    /// The body cut for a dead-letter reason (bounded; a peer's reply is not trusted to be short).
    var bodyExcerpt: String {
        let flat = body.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return Truncation.runes(flat, 200)
    }

    /// The common part of every classification: no answer → retry; 5xx → retry; 408 → retry.
    /// Returns nil when the platform-specific rules must decide.
    func commonOutcome(platform: String) -> DeliveryOutcome? {
        guard let status else {
            return .retry(after: nil, reason: "\(platform): no answer (\(transportError ?? "connection failed"))")
        }
        if (500...599).contains(status) { return .retry(after: retryAfter, reason: "\(platform): HTTP \(status) \(bodyExcerpt)") }
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

