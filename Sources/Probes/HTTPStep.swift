import Foundation
import NativeClients
import ProbeCore

/// HTTP requests made by checks: bounded by what is left of the check's deadline, with the ingress settings
/// (connect-to, CA file) applied to public URLs.
extension CheckContext {
    /// Sends a request whose timeout is what is left of the deadline (at most `request.timeout` when set lower).
    public func send(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPFailure> {
        var request = request
        let left = remaining
        guard left > 0.005 else {
            return .failure(
                HTTPFailure(
                    kind: .timeout, code: 28, message: "no time left in the check's deadline",
                    phase: "a turn (the deadline was used up by earlier steps)"))
        }
        request.timeout = min(request.timeout, left)
        request.connectTimeout = min(request.connectTimeout, request.timeout)
        return await http.perform(request)
    }

    /// A request to a public (ingress) URL: connect-to and the CA file of the `ingress` section apply.
    public func ingressRequest(
        method: String = "GET", url: URL, headers: [(name: String, value: String)] = [],
        body: Data? = nil, wantCertificates: Bool = false, verifyTLS: Bool? = nil
    ) -> HTTPRequest {
        HTTPRequest(
            method: method, url: url, headers: headers, body: body, connectTimeout: settings.timeout,
            timeout: settings.timeout, verifyTLS: verifyTLS ?? !config.ingress.insecure,
            caFile: config.ingress.caFile, connectTo: config.ingress.connectTo, wantCertificates: wantCertificates)
    }

    /// A request straight to a service (no ingress settings).
    public func directRequest(
        method: String = "GET", url: URL, headers: [(name: String, value: String)] = [],
        body: Data? = nil, maxBodyBytes: Int = 64 * 1024
    ) -> HTTPRequest {
        HTTPRequest(
            method: method, url: url, headers: headers, body: body, connectTimeout: settings.timeout,
            timeout: settings.timeout, caFile: config.ingress.caFile, maxBodyBytes: maxBodyBytes)
    }
}

/// Words for people about what went wrong on the wire.
public enum HTTPWords {
    /// `apiserver:8008` (or `api.example.com via nginx:443`).
    public static func place(_ url: URL, connectTo: String? = nil) -> String {
        let host = url.host ?? "?"
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        if let connectTo { return "\(host) via \(connectTo)" }
        return "\(host):\(port)"
    }

    /// One line for a request that got no HTTP answer.
    public static func failure(_ failure: HTTPFailure, at place: String, timeout: Double) -> String {
        switch failure.kind {
        case .connectionRefused: "connection refused at \(place): nothing is listening"
        case .nameResolution: "cannot resolve \(place): the name does not exist from here"
        case .timeout:
            "no answer from \(place) within \(Durations.format(seconds: timeout)) (stuck at \(failure.phase ?? "?"))"
        case .tls: "TLS handshake with \(place) failed: \(failure.message)"
        case .emptyReply: "\(place) closed the connection without answering"
        case .connectionReset: "\(place) reset the connection: \(failure.message)"
        case .protocolError: "\(place) did not answer HTTP: \(failure.message)"
        case .other: "request to \(place) failed: \(failure.message)"
        }
    }

    /// nginx's way of saying the upstream is the problem.
    public static func isGatewayError(_ status: Int) -> Bool { status == 502 || status == 503 || status == 504 }

    public static func looksLikeHTML(_ response: HTTPResponse) -> Bool {
        if response.header("content-type")?.lowercased().contains("text/html") == true {
            let head = response.text.prefix(2048).lowercased()
            return head.contains("<html") || head.contains("<!doctype html")
        }
        return false
    }

    public static func excerpt(_ response: HTTPResponse) -> String {
        Evidence.excerpt("HTTP \(response.status) " + String(response.text.prefix(1024)), limit: 240)
    }
}
