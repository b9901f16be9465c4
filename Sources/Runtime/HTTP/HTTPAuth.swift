import Foundation
import ProbeCore

/// Optional protection of the endpoint: a bearer token, HTTP basic credentials, or both (either is accepted).
/// `/healthz` is always open (see `SidecarRoutes`).
public struct HTTPAuth: Sendable {
    public var token: Secret?
    public var basic: (user: String, password: Secret)?

    public init(token: Secret? = nil, basic: (user: String, password: Secret)? = nil) {
        self.token = token
        self.basic = basic
    }

    public static let none = HTTPAuth()

    public var isEnabled: Bool { token != nil || basic != nil }

    public func allows(_ authorization: String?) -> Bool {
        guard isEnabled else { return true }
        guard let authorization else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return false }
        let scheme = parts[0].lowercased()
        let value = String(parts[1]).trimmingCharacters(in: .whitespaces)
        if scheme == "bearer", let token {
            return Self.constantTimeEqual(value, token.exposed)
        }
        if scheme == "basic", let basic,
            let decoded = Data(base64Encoded: value).map({ String(decoding: $0, as: UTF8.self) })
        {
            return Self.constantTimeEqual(decoded, basic.user + ":" + basic.password.exposed)
        }
        return false
    }

    /// The challenge for a 401.
    public var challenge: String {
        basic != nil ? "Basic realm=\"clearml-probe\", charset=\"UTF-8\"" : "Bearer realm=\"clearml-probe\""
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 && a.count == b.count
    }
}
