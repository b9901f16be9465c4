import Foundation
import NativeClients

/// The Python test doubles under `Tests/doubles/`: started once per suite, driven through their control port.
public final class PythonDouble: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let process: TestProcess
    public let ports: [String: Int]

    /// Starts `Tests/doubles/<script>` with `arguments`; waits for its ready line.
    public init(_ script: String, arguments: [String] = []) throws {
        process = try TestProcess(
            script, executable: "/usr/bin/env",
            arguments: ["python3", Repository.path("Tests/doubles/\(script)")] + arguments)
        ports = try process.waitPorts()
    }

    public func port(_ name: String) -> Int { ports[name] ?? -1 }

    public func url(_ name: String) -> URL { URL(string: "http://127.0.0.1:\(port(name))")! }

    /// Sends JSON to the control port and returns the decoded reply.
    @discardableResult
    public func control(_ path: String, _ body: Any? = nil, method: String = "POST") async throws -> Any? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let request = HTTPRequest(
            method: method, url: URL(string: "http://127.0.0.1:\(port("control"))\(path)")!,
            headers: data == nil ? [] : [("Content-Type", "application/json")],
            body: data ?? (method == "POST" ? Data() : nil),
            timeout: 10, maxBodyBytes: 16 * 1024 * 1024)
        switch await HTTPClient().perform(request) {
        case .success(let response):
            guard (200..<300).contains(response.status) else {
                throw TestSupportError("\(process.name) control \(path): HTTP \(response.status) \(response.text)")
            }
            return try? JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
        case .failure(let failure):
            throw TestSupportError("\(process.name) control \(path): \(failure)")
        }
    }

    public func requests() async throws -> [[String: Any]] {
        (try await control("/requests", method: "GET") as? [[String: Any]]) ?? []
    }

    public func stop() { process.stop() }
}
