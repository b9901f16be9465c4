import Foundation
import ProbeCore

/// Standard Webhooks 1.0 signing (docs/chat-platforms.md, "Generic webhook"): `webhook-signature: v1,<base64 HMAC-SHA256(key,
/// "{id}.{timestamp}.{body}")>`, the key being the base64 after `whsec_`.
public struct StandardWebhooks: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let key: [UInt8]

    public struct InvalidSecret: Error, CustomStringConvertible {
        public var description: String {
            "the signing secret must be 'whsec_' followed by base64 (24 to 64 random bytes), as Standard Webhooks shows it"
        }
    }

    /// Reads a `whsec_…` secret (the prefix is optional).
    public init(secret: Secret) throws {
        var text = secret.exposed.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("whsec_") { text.removeFirst(6) }
        guard let data = Data(base64Encoded: text), !data.isEmpty else { throw InvalidSecret() }
        key = Array(data)
    }

    public init(key: [UInt8]) { self.key = key }

    /// The key never prints, not even through reflection (`dump`, string interpolation of a destination).
    public var description: String { "StandardWebhooks(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// The `webhook-signature` value for one attempt.
    public func signature(id: String, timestamp: Int, body: Data) -> String {
        "v1," + Data(code(id: id, timestamp: timestamp, body: body)).base64EncodedString()
    }

    func code(id: String, timestamp: Int, body: Data) -> [UInt8] {
        HMACSHA256.authenticationCode(key: key, message: Array("\(id).\(timestamp).".utf8) + Array(body))
    }

    /// What a receiver does: true when one of the space-separated `v1,` signatures matches.
    public func verify(id: String, timestamp: Int, body: Data, signatureHeader: String) -> Bool {
        let expected = code(id: id, timestamp: timestamp, body: body)
        return signatureHeader.split(separator: " ").contains { entry in
            guard entry.hasPrefix("v1,"), let given = Data(base64Encoded: String(entry.dropFirst(3))) else {
                return false
            }
            return HMACSHA256.equal(Array(given), expected)
        }
    }
}
