import Foundation
import ProbeCore

/// Where a Redis is and who the probe is to it.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+); nil authenticates with the password alone (`AUTH password`).
    public var username: String?
    public var password: Secret?
    public var database: Int
    /// Shown to operators in `CLIENT LIST`.
    public var clientName: String

    public init(
        host: String, port: Int = 6379, username: String? = nil, password: Secret? = nil, database: Int = 0,
        clientName: String = "clearml-probe"
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
    }

    /// `redis:6379` (never the password).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func == (lhs: RedisEndpoint, rhs: RedisEndpoint) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port && lhs.username == rhs.username
            && lhs.password?.exposed == rhs.password?.exposed && lhs.database == rhs.database
            && lhs.clientName == rhs.clientName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(username)
        hasher.combine(password?.exposed)
        hasher.combine(database)
    }
}

/// A reply, copied out of hiredis' reply object.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    /// An error reply (`-ERR …`, `-NOAUTH …`): the server answered, the command failed.
    case error(String)
    case string(Data)
    case integer(Int64)
    case array([RedisReply])
    case null

    /// Text of a status, error or bulk string reply.
    public var text: String? {
        switch self {
        case .status(let text), .error(let text): text
        case .string(let data): String(decoding: data, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}

/// Why a Redis command got no reply. The connection is dropped after any of these.
public struct RedisFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case nameResolution = "name resolution failed"
        case connectionRefused = "connection refused"
        case connectTimeout = "connect timeout"
        case timeout
        case connectionClosed = "connection closed"
        case io = "I/O error"
        case protocolError = "protocol error"
        case deadline = "no time left"
        /// The server answered the handshake with an error (WRONGPASS, NOAUTH).
        case rejected = "refused by the server"
        case other = "failed"
    }

    public var kind: Kind
    /// What the probe was doing: `resolve`, `connect`, `AUTH`, `PING`, …
    public var step: String
    public var message: String

    public init(kind: Kind, step: String, message: String) {
        self.kind = kind
        self.step = step
        self.message = message
    }

    public var description: String { "\(step): \(kind.rawValue) (\(message))" }

    /// The probe could not connect at all (as opposed to a server that connected and then failed).
    public var isReachability: Bool {
        switch kind {
        case .nameResolution, .connectionRefused, .connectTimeout: true
        default: false
        }
    }

    /// Redis gave no answer at all (not reached, timed out, connection broken), as opposed to an error reply.
    public var gotNoAnswer: Bool {
        switch kind {
        case .nameResolution, .connectionRefused, .connectTimeout, .timeout, .connectionClosed, .io, .deadline: true
        case .rejected, .protocolError, .other: false
        }
    }
}
