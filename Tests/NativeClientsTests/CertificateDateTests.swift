import Foundation
import TestSupport
import Testing

@testable import NativeClients

/// Expected values from GNU `date -u -d … +%s`.
@Suite("Certificate dates as libcurl prints them")
struct CertificateDateTests {
    @Test(
        "OpenSSL's and other builds' forms",
        arguments: [
            ("Jan  5 00:00:00 2027 GMT", 1_799_107_200.0),
            ("Jan 5 00:00:00 2027 GMT", 1_799_107_200.0),
            ("Dec 31 23:59:59 2026 GMT", 1_798_761_599.0),
            ("2027-01-05 00:00:00 GMT", 1_799_107_200.0),
        ])
    func reads(text: String, seconds: Double) {
        #expect(CurlEasy.parseCertificateDate(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(
        "anything else is nil",
        arguments: [
            "", "Jan 5 2027", "Foo  5 00:00:00 2027 GMT", "Feb 30 00:00:00 2027 GMT",
            "Jan  5 00:00:00 2027 CET", "Jan  5 0:00:00 2027 GMT", "2027-01-05 00:00:00",
        ])
    func rejects(text: String) {
        #expect(CurlEasy.parseCertificateDate(text) == nil)
    }
}

/// Reused easy handles must not carry a connection from one request to the next.
@Suite("Reused curl handles")
struct CurlHandleReuseTests {
    /// A keep-alive HTTP/1.1 server whose every answer is the number of connections it has accepted so far.
    static let countingServer = """
        import http.server, json, sys, threading
        class Server(http.server.ThreadingHTTPServer):
            accepted = 0
            def get_request(self):
                pair = super().get_request()
                Server.accepted += 1
                return pair
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                body = str(Server.accepted).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = Server(("127.0.0.1", 0), Handler)
        print(json.dumps({"ready": True, "ports": {"http": server.server_address[1]}}), flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.read()
        """

    @Test("a handle given back is reused, and every request opens its own connection")
    func freshConnections() async throws {
        let server = try TestProcess(
            "counting-http", executable: "/usr/bin/python3", arguments: ["-c", Self.countingServer])
        defer { server.stop() }
        let port = try #require(try server.waitPorts()["http"])
        let client = HTTPClient()
        let url = URL(string: "http://127.0.0.1:\(port)/")!
        var answers: [String] = []
        for _ in 0..<5 {
            let result = await client.perform(HTTPRequest(url: url, timeout: 2))
            guard case .success(let response) = result else {
                Issue.record("request failed: \(result)")
                return
            }
            answers.append(String(decoding: response.body, as: UTF8.self))
            #expect(response.timings.connect > 0, "a full connect was measured")
        }
        // A reused connection would answer the same count twice.
        #expect(answers == ["1", "2", "3", "4", "5"])
        #expect(CurlHandlePool.shared.idleCount >= 1)
    }
}
