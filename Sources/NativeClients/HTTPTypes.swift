import Foundation

/// One HTTP request as a probe sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// Seconds to establish the connection (TCP and TLS).
    public var connectTimeout: Double
    /// Seconds for the whole request, name resolution included.
    public var timeout: Double
    public var verifyTLS: Bool
    public var caFile: String?
    /// `host:port` to connect to instead of the URL's host, keeping Host and SNI (libcurl's CONNECT_TO).
    public var connectTo: String?
    /// The body is kept up to this many bytes; the rest is counted and dropped.
    public var maxBodyBytes: Int
    /// Ask libcurl for the peer's certificate chain (for expiry checks).
    public var wantCertificates: Bool
    /// Declare a body of this many bytes (`Content-Length`, `Expect: 100-continue`, HTTP/1.1) and send none of it:
    /// the request ends at the first final response to the head, or when the server asks for the body with
    /// `100 Continue`, which comes back as a response with status 100. `body` is ignored.
    public var declaredBodyBytes: Int64?

    public init(
        method: String = "GET", url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil,
        connectTimeout: Double = 2, timeout: Double = 5, verifyTLS: Bool = true, caFile: String? = nil,
        connectTo: String? = nil, maxBodyBytes: Int = 64 * 1024, wantCertificates: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.connectTo = connectTo
        self.maxBodyBytes = maxBodyBytes
        self.wantCertificates = wantCertificates
    }
}

/// Cumulative phase times in milliseconds since the request started, as libcurl reports them.
public struct HTTPTimings: Sendable, Equatable {
    public var dns: Double = 0
    public var connect: Double = 0
    /// TLS handshake done (0 for plain HTTP).
    public var tls: Double = 0
    public var firstByte: Double = 0
    public var total: Double = 0

    public init(dns: Double = 0, connect: Double = 0, tls: Double = 0, firstByte: Double = 0, total: Double = 0) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }

    /// The timings as result fields, named for people and Prometheus.
    public var asDictionary: [String: Double] {
        var out = ["dns_ms": dns, "connect_ms": connect, "first_byte_ms": firstByte, "total_ms": total]
        if tls > 0 { out["tls_ms"] = tls }
        return out
    }
}

/// A certificate of the peer's chain.
public struct PeerCertificate: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var notBefore: Date?
    public var notAfter: Date?
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased, in order; the last response's headers only (after 100-continue).
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Bytes received beyond `maxBodyBytes`.
    public var droppedBodyBytes: Int
    public var timings: HTTPTimings
    public var certificates: [PeerCertificate]

    public init(
        status: Int, headers: [(name: String, value: String)] = [], body: Data = Data(), droppedBodyBytes: Int = 0,
        timings: HTTPTimings = HTTPTimings(), certificates: [PeerCertificate] = []
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.droppedBodyBytes = droppedBodyBytes
        self.timings = timings
        self.certificates = certificates
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no HTTP answer.
public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case timeout
        case connectionRefused = "connection refused"
        case nameResolution = "name resolution failed"
        case tls = "TLS failure"
        case emptyReply = "empty reply"
        case connectionReset = "connection reset"
        case protocolError = "not HTTP"
        case other = "request failed"
    }

    public var kind: Kind
    /// libcurl's code (CURLcode).
    public var code: Int
    /// libcurl's message; URLs in it have their userinfo removed.
    public var message: String
    public var timings: HTTPTimings
    /// For timeouts: the phase that was still running (`connect`, `tls`, `first byte`, `body`).
    public var phase: String?

    public init(kind: Kind, code: Int, message: String, timings: HTTPTimings = HTTPTimings(), phase: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.timings = timings
        self.phase = phase
    }

    public var description: String {
        if kind == .timeout, let phase { return "timeout waiting for \(phase) (\(message))" }
        return "\(kind.rawValue): \(message)"
    }

    /// Could not connect from here at all (as opposed to a peer that answered badly).
    public var isReachability: Bool {
        switch kind {
        case .connectionRefused, .nameResolution: true
        case .timeout: phase == "connect"
        default: false
        }
    }
}
