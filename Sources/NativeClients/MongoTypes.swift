import Foundation
import ProbeCore

/// Where a MongoDB is, as a connection string (which may carry a password), and how long any one call may take.
public struct MongoEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var uri: Secret
    /// Seconds: becomes connectTimeoutMS, socketTimeoutMS and serverSelectionTimeoutMS of the client.
    public var timeout: Double
    public var appName: String

    public init(uri: Secret, timeout: Double, appName: String = "clearml-probe") {
        self.uri = uri
        self.timeout = timeout
        self.appName = appName
    }

    /// The hosts of the URI (`mongo:27017`), never its userinfo or options.
    public var description: String { Self.hosts(of: uri.exposed) }

    /// `host:port[,host:port]` of a `mongodb://` or `mongodb+srv://` URI.
    public static func hosts(of uri: String) -> String {
        guard let schemeEnd = uri.range(of: "://") else { return "<mongodb uri>" }
        var rest = uri[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return rest.isEmpty ? "<mongodb uri>" : String(rest)
    }

    public static func == (lhs: MongoEndpoint, rhs: MongoEndpoint) -> Bool {
        lhs.uri.exposed == rhs.uri.exposed && lhs.timeout == rhs.timeout && lhs.appName == rhs.appName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(uri.exposed)
        hasher.combine(timeout)
    }
}

/// `{w: "majority", j: true, wtimeout}` for the probe's writes.
public struct MongoWriteConcern: Sendable, Equatable {
    public var majority: Bool
    public var journal: Bool
    public var wtimeoutMs: Int

    public init(majority: Bool = true, journal: Bool = true, wtimeoutMs: Int) {
        self.majority = majority
        self.journal = journal
        self.wtimeoutMs = wtimeoutMs
    }
}

/// Why a MongoDB operation failed, from libmongoc's `bson_error_t` (error API 2) and the server's reply.
public struct MongoFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidURI = "invalid connection string"
        case nameResolution = "name resolution failed"
        /// No server could be selected: refused, connect timeout, handshake never answered.
        case serverSelection = "no server reachable"
        /// Connected, but a reply did not come within socketTimeoutMS.
        case timeout
        case io = "connection error"
        /// The server answered `ok: 0` with a code.
        case server = "command failed"
        /// The write happened but not as durably as asked (`writeConcernError`).
        case writeConcern = "write concern failed"
        /// A write error on the document (`writeErrors`, e.g. a duplicate key).
        case write = "write failed"
        case deadline = "no time left"
        case other = "failed"
    }

    public var kind: Kind
    /// What the probe was doing (`ping`, `insert into clearml_probe.probe`).
    public var step: String
    /// libmongoc's error domain and code (for server errors: the server's code).
    public var domain: UInt32
    public var code: Int
    /// The server's name for the code (`WriteConcernFailed`, `NotWritablePrimary`), when it gave one.
    public var codeName: String?
    public var message: String

    public init(kind: Kind, step: String, domain: UInt32 = 0, code: Int = 0, codeName: String? = nil, message: String) {
        self.kind = kind
        self.step = step
        self.domain = domain
        self.code = code
        self.codeName = codeName
        self.message = message
    }

    public var description: String {
        var text = "\(step): \(kind.rawValue)"
        if kind == .server || kind == .writeConcern || kind == .write {
            text += " \(code)" + (codeName.map { " \($0)" } ?? "")
        }
        return text + " (\(message))"
    }

    /// The probe could not connect at all (refused, name, TCP connect timeout), as opposed to a server that
    /// accepted and then failed or hung.
    public var isReachability: Bool {
        switch kind {
        case .nameResolution: return true
        case .serverSelection:
            let text = message.lowercased()
            return text.contains("connection refused") || text.contains("connection timeout")
                || text.contains("failed to resolve") || text.contains("unknown host")
        default: return false
        }
    }

    /// MongoDB gave no answer at all (not reached, timed out, connection broken), as opposed to a reply that refused.
    public var gotNoAnswer: Bool {
        switch kind {
        case .nameResolution, .serverSelection, .timeout, .io, .deadline: true
        case .server, .write, .writeConcern, .invalidURI, .other: false
        }
    }
}
