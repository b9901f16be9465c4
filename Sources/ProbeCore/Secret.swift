import Foundation

/// A credential. It prints as `<redacted>` everywhere, so a secret cannot reach output or logs by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value, for the one place that must send it (a header, a URI given to a C library).
    public let exposed: String

    public init(_ value: String) { self.exposed = value }

    public var isEmpty: Bool { exposed.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Removes secrets from text that came from outside (errors, URLs, a peer's reply).
public enum Redact {
    /// A URL fit to print: no userinfo, no query, and path segments that look like tokens hidden.
    ///
    /// Webhook URLs carry their credential in the path (Slack, Discord, Telegram) or the query (Teams, Google Chat),
    /// so only the scheme, host and port are kept.
    public static func url(_ text: String) -> String {
        guard let components = URLComponents(string: text), let host = components.host else {
            return "<url>"
        }
        var shown = "\(components.scheme ?? "http")://\(host)"
        if let port = components.port { shown += ":\(port)" }
        return shown
    }

    /// A service URL fit to print: userinfo and query removed, path kept (service paths are not secret).
    public static func serviceURL(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "<url>" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? "<url>"
    }

    /// `text` with every occurrence of each secret replaced, plus userinfo in any URL-looking word.
    public static func text(_ text: String, secrets: [Secret]) -> String {
        var out = text
        for secret in secrets where secret.exposed.count >= 4 {
            out = out.replacingOccurrences(of: secret.exposed, with: "<redacted>")
        }
        return stripUserinfo(out)
    }

    /// `scheme://user:password@host` → `scheme://<redacted>@host`.
    public static func stripUserinfo(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let end =
                rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "?" || $0 == "\"" || $0 == "'" })
                ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@") {
                result += "<redacted>@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }
}
