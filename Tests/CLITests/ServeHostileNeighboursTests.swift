import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

/// `clearml-probe serve` as a process, with an apiserver that answers numbers no `Int` holds, and neighbours that
/// try to change silences without being allowed to.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ServeHostileNeighboursTests {
    @Test func crashRepliesGiveFailedChecksAndSilencesStayGuarded() async throws {
        let state = try TempDirectory("serve-hostile")
        defer { state.remove() }
        let apiPort = Ports.free()
        let nginx = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(apiPort);
                    access_log off;
                    location /nan { default_type application/json; return 200 '{"meta":{"result_code":"nan"}}'; }
                    location / { default_type application/json; return 200 '{"meta":{"result_code":1e300}}'; }
                }
                """, waitPort: apiPort)
        defer { nginx.stop() }
        let port = Ports.free()
        let serve = try TestProcess(
            "serve", executable: Binary.path,
            arguments: [
                "serve", "--listen", "127.0.0.1:\(port)", "--only", "apiserver.ping", "--only", "apiserver.auth",
            ],
            env: [
                "CLEARML_PROBE_APISERVER_URL": "http://127.0.0.1:\(apiPort)",
                "CLEARML_PROBE_INTERVAL": "200ms", "CLEARML_PROBE_TIMEOUT": "1s",
                "CLEARML_PROBE_STATE_DIR": state.path, "CLEARML_PROBE_CONFIG": "",
                "CLEARML_API_ACCESS_KEY": "probe-key", "CLEARML_API_SECRET_KEY": "probe-secret",
            ],
            currentDirectory: state.path)
        try Ports.waitListening(port)
        let document = try await ServeProcessTests.waitCycles(port, atLeast: 3)
        #expect(serve.process.isRunning, "serve died on the reply: \(serve.stderrTail())")
        let ping = document["checks"]?.array?.first { $0["key"]?.string == "apiserver.ping" }
        #expect(ping?["status"]?.string != "ok", "\(String(describing: ping))")

        // The CLI on loopback, without a credential, goes through the sidecar.
        let (added, output) = try Binary.run(
            ["silence", "add", "--match", "redis", "--for", "1h", "--reason", "disk swap"],
            env: ["CLEARML_PROBE_LISTEN": "127.0.0.1:\(port)", "CLEARML_PROBE_STATE_DIR": ""])
        #expect(added == 0, "\(output)")
        func post(_ headers: [(name: String, value: String)]) async throws -> Int {
            let request = HTTPRequest(
                method: "POST", url: URL(string: "http://127.0.0.1:\(port)/api/silences")!, headers: headers,
                body: Data(#"{"match":"apiserver","for":"30d","reason":"x"}"#.utf8), timeout: 3)
            return try await HTTPClient().perform(request).get().status
        }
        #expect(try await post([("Content-Type", "text/plain")]) == 415)
        #expect(try await post([("Content-Type", "application/json"), ("Origin", "http://evil.example")]) == 403)
        #expect(try await post([("Content-Type", "application/json"), ("Host", "evil.example:\(port)")]) == 403)
        let (listed, listing) = try Binary.run(
            ["silence", "list"], env: ["CLEARML_PROBE_LISTEN": "127.0.0.1:\(port)", "CLEARML_PROBE_STATE_DIR": ""])
        #expect(listed == 0)
        #expect(listing.contains("service redis"), "\(listing)")
        #expect(!listing.contains("apiserver"), "a refused request added a silence: \(listing)")
        kill(serve.process.processIdentifier, SIGTERM)
        serve.process.waitUntilExit()
        #expect(serve.process.terminationStatus == 0, "\(serve.stderrTail())")
    }
}
