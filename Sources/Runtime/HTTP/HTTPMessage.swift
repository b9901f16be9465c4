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
    /// The body, when the request had one (`Content-Length`, bounded by the server).
    public var body: Data = Data()

    public init(method: String, path: String, query: String? = nil, headers: [String: String] = [:], fromLoopback: Bool = true) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.fromLoopback = fromLoopback
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public enum ParseError: Error, Equatable {
        case incomplete
        case malformed
    }

    /// Parses bytes up to the blank line; `.incomplete` while it has not arrived.
    public static func parse(_ bytes: [UInt8], fromLoopback: Bool = true) throws(ParseError) -> HTTPRequestHead {
        guard let end = headEnd(bytes) else { throw .incomplete }
        let text = String(decoding: bytes[..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1."), requestLine[1].hasPrefix("/") else { throw .malformed }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return HTTPRequestHead(method: String(requestLine[0]), path: String(parts[0]),
                               query: parts.count > 1 ? String(parts[1]) : nil, headers: headers, fromLoopback: fromLoopback)
    }

    /// Bytes of body announced by `Content-Length` (0 when absent or not a number).
    public var contentLength: Int { header("content-length").flatMap { Int($0) }.map { max(0, $0) } ?? 0 }

    /// Index just past `\r\n\r\n`, if present.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}

/// A complete response; the server adds Content-Length, Date and `Connection: close`.
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

    public static func == (lhs: HTTPServerResponse, rhs: HTTPServerResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
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
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 201: "Created"
        case 405: "Method Not Allowed"
        case 413: "Content Too Large"
        case 408: "Request Timeout"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
