import Foundation

/// The head of an HTTP/1.x request: what the endpoint needs (method, path, headers), nothing more.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    /// The path without the query string.
    public var path: String
    public var query: String?
    /// Names lowercased.
    public var headers: [String: String]
    /// The peer is on the loopback interface.
    public var fromLoopback: Bool
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String = "HTTP/1.1"
    /// The body, when the request had one (`Content-Length`, bounded by the server).
    public var body: Data = Data()

    public init(
        method: String, path: String, query: String? = nil, headers: [String: String] = [:], fromLoopback: Bool = true
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.fromLoopback = fromLoopback
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public enum ParseError: Error, Equatable, Sendable {
        /// The blank line that ends the head has not arrived yet.
        case incomplete
        /// The request cannot be served as sent: the status to answer and why (for the client, no secret in it).
        case refused(status: Int, reason: String)

        static func bad(_ reason: String) -> ParseError { .refused(status: 400, reason: reason) }
    }

    /// Parses bytes up to the blank line; `.incomplete` while it has not arrived.
    public static func parse(_ bytes: [UInt8], fromLoopback: Bool = true) throws(ParseError) -> HTTPRequestHead {
        try frame(bytes, fromLoopback: fromLoopback).head
    }

    /// Bytes of body announced by `Content-Length` (0 when absent; `frame` refuses a malformed one).
    public var contentLength: Int { header("content-length").flatMap { Int($0) }.map { max(0, $0) } ?? 0 }

    /// The client sent `Expect: 100-continue` and waits for the go-ahead before the body.
    public var expectsContinue: Bool { header("expect")?.lowercased() == "100-continue" }

    /// A parsed head and where its body starts in the bytes.
    public struct Framed: Sendable, Equatable {
        public var head: HTTPRequestHead
        public var headLength: Int
        public var bodyLength: Int { head.contentLength }
    }

    /// Most header lines a request may carry.
    public static let maxHeaderLines = 100

    /// Reads one request head under RFC 9112's rules, refusing what this server does not implement.
    ///
    /// `limit` bounds the head: past it without a blank line the answer is 431, whatever the rest would have been.
    public static func frame(_ bytes: [UInt8], limit: Int = 16 * 1024, fromLoopback: Bool = true) throws(ParseError)
        -> Framed
    {
        // §2.2: empty lines before the request line are ignored.
        var start = 0
        while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10, start < limit { start += 2 }
        guard let end = headEnd(bytes, from: start, limit: limit) else {
            if bytes.count - start > limit || start >= limit {
                throw .refused(status: 431, reason: "request head larger than \(limit) bytes")
            }
            try checkPrefix(bytes, from: start)
            throw .incomplete
        }
        // The lines end at `end - 2` (the blank line's CRLF); each ends with CRLF, a lone CR or LF is refused.
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        var index = start
        while index < end - 2 {
            switch bytes[index] {
            case 13:
                guard bytes[index + 1] == 10 else { throw .bad("bare CR in the request head") }
                lines.append(bytes[lineStart..<index])
                index += 2
                lineStart = index
            case 10:
                throw .bad("bare LF in the request head (lines end with CRLF)")
            default:
                index += 1
            }
        }
        guard let requestLine = lines.first else { throw .bad("no request line") }
        guard lines.count - 1 <= maxHeaderLines else {
            throw .refused(status: 431, reason: "more than \(maxHeaderLines) header lines")
        }
        var head = try parseRequestLine(requestLine)
        head.fromLoopback = fromLoopback
        var seen: Set<String> = []
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let (name, value) = try parseField(line)
            if Self.singletons.contains(name) {
                guard !seen.contains(name) else { throw .bad("more than one \(name) header") }
            }
            seen.insert(name)
            if let previous = headers[name] { headers[name] = previous + ", " + value } else { headers[name] = value }
        }
        if let authority = head.headers["host"] {
            // §3.2.2: the authority of an absolute-form target replaces any Host field.
            headers["host"] = authority
        } else if head.version == "HTTP/1.1", headers["host"] == nil {
            throw .bad("an HTTP/1.1 request needs a Host header")
        }
        if let host = headers["host"], !isValidAuthority(host) { throw .bad("the Host header is not a host[:port]") }
        head.headers = headers
        try checkFraming(head)
        return Framed(head: head, headLength: end)
    }

    /// Fields whose repetition would make the request ambiguous.
    static let singletons: Set<String> = [
        "host", "content-length", "content-type", "authorization", "origin", "expect",
    ]

    /// RFC 9112 §6: only `Content-Length` framing is implemented.
    static func checkFraming(_ head: HTTPRequestHead) throws(ParseError) {
        if head.header("transfer-encoding") != nil {
            // §6.1 and §6.3: Transfer-Encoding with Content-Length, or in HTTP/1.0, is faulty framing.
            if head.header("content-length") != nil { throw .bad("both Transfer-Encoding and Content-Length") }
            if head.version == "HTTP/1.0" { throw .bad("Transfer-Encoding in an HTTP/1.0 request") }
            throw .refused(
                status: 501, reason: "Transfer-Encoding is not implemented; send the body with Content-Length")
        }
        if let length = head.header("content-length") {
            // §6.3: a value that is not a single run of digits is unrecoverable framing.
            guard !length.isEmpty, length.utf8.count <= 18, length.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw .bad("Content-Length '\(length.prefix(40))' is not a number of bytes")
            }
        }
        if let expect = head.header("expect"), expect.lowercased() != "100-continue" {
            throw .refused(status: 417, reason: "only Expect: 100-continue is understood")
        }
    }

    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(ParseError) -> HTTPRequestHead {
        // §3: method SP request-target SP HTTP-version, single spaces.
        let parts = line.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .bad("the request line is not METHOD TARGET VERSION")
        }
        guard parts[0].allSatisfy(isTokenByte) else { throw .bad("the method is not a token") }
        let version = String(decoding: parts[2], as: UTF8.self)
        if version != "HTTP/1.1" && version != "HTTP/1.0" {
            let bytes = Array(parts[2])
            if bytes.count == 8, version.hasPrefix("HTTP/"), isDigit(bytes[5]), bytes[6] == 46, isDigit(bytes[7]) {
                throw .refused(status: 505, reason: "only HTTP/1.1 and HTTP/1.0 are served")
            }
            throw .bad("the version is not HTTP/1.x")
        }
        guard parts[1].allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw .bad("the request target has a control or non-ASCII byte")
        }
        var target = String(decoding: parts[1], as: UTF8.self)
        var authority: String?
        let lower = target.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            // §3.2.2 absolute-form.
            let rest = target[target.index(target.startIndex, offsetBy: lower.hasPrefix("http://") ? 7 : 8)...]
            let cut = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            authority = String(rest[..<cut])
            target = String(rest[cut...])
            if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
            guard let authority, !authority.isEmpty, !authority.contains("@") else {
                throw .bad("the absolute target has no host")
            }
        }
        guard target.hasPrefix("/") else { throw .bad("the request target is not a path") }
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var head = HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self), path: String(pieces[0]),
            query: pieces.count > 1 ? String(pieces[1]) : nil)
        head.version = version
        if let authority { head.headers = ["host": authority] }
        return head
    }

    static func parseField(_ line: ArraySlice<UInt8>) throws(ParseError) -> (String, String) {
        guard let first = line.first else { throw .bad("empty header line") }
        // §5.2: obsolete line folding is refused.
        if first == 32 || first == 9 { throw .bad("a folded header line (obs-fold)") }
        guard let colon = line.firstIndex(of: 58) else { throw .bad("a header line without a colon") }
        let name = line[line.startIndex..<colon]
        // §5.1: no whitespace between the field name and the colon.
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw .bad("a header name that is not a token (whitespace before the colon?)")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 32 || byte == 9 { value = value.dropFirst() }
        while let byte = value.last, byte == 32 || byte == 9 { value = value.dropLast() }
        // §5.5: field values are visible characters, spaces, tabs and obs-text; never NUL or other controls.
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
            throw .bad("a control character in a header value")
        }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))
    }

    /// `host`, `host:port`, `[v6]:port`: RFC 3986 reg-name, IPv4 or bracketed IPv6 characters (no userinfo, no path).
    static func isValidAuthority(_ text: String) -> Bool {
        if text.isEmpty { return true }
        return text.utf8.allSatisfy { byte in
            isAlphaNumeric(byte) || "-._~:[]%!$&'()*+,;=".utf8.contains(byte)
        } && text.utf8.count <= 255
    }

    /// Refuses early, before the blank line arrives, what can never become a request (so a 2 MB line of junk is
    /// not read to the limit): bytes that are not even the start of a method.
    static func checkPrefix(_ bytes: [UInt8], from start: Int) throws(ParseError) {
        var index = start
        while index < bytes.count, bytes[index] != 32 {
            guard isTokenByte(bytes[index]) else { throw .bad("the request does not start with a method") }
            index += 1
        }
    }

    /// Index just past `\r\n\r\n`, if present within `limit` bytes of `from`.
    static func headEnd(_ bytes: [UInt8], from: Int = 0, limit: Int = .max) -> Int? {
        let stop = bytes.count - from > limit ? from + limit : bytes.count
        let last = stop - 4
        guard from >= 0, last >= from else { return nil }
        var index = from
        while index <= last {
            if bytes[index + 3] != 10 {
                index += bytes[index + 3] == 13 ? 1 : 4
                continue
            }
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 { return index + 4 }
            index += 1
        }
        return nil
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool { isAlphaNumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte) }
}

/// A complete response; the server adds Content-Length and `Connection: close`.
public struct HTTPServerResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String, text: String, headers: [(String, String)] = []) {
        self.init(status: status, headers: [("Content-Type", contentType)] + headers, body: Data(text.utf8))
    }

    /// A short plain-text answer (refusals, limits).
    public static func plain(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPServerResponse {
        HTTPServerResponse(
            status: status, contentType: "text/plain; charset=utf-8", text: text + "\n",
            headers: headers + [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    }

    public static func == (lhs: HTTPServerResponse, rhs: HTTPServerResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
    }

    public func header(_ name: String) -> String? {
        headers.last { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The bytes on the wire; HEAD gets the head only.
    public func serialized(headOnly: Bool = false) -> Data {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var data = Data(head.utf8)
        if !headOnly { data.append(body) }
        return data
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        case 507: "Insufficient Storage"
        default: "Status"
        }
    }
}
