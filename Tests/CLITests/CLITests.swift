import Foundation
import TestSupport
import Testing

/// The binary as people and scripts use it: exit codes, formats, located config errors, no secrets.
@Suite("clearml-probe CLI", .serialized)
struct CLITests {
    struct Output {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    static let binary = Repository.path(".build/debug/clearml-probe")

    func run(_ arguments: [String], env: [String: String] = [:], directory: String? = nil) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestSupportError("\(Self.binary) is missing: run `swift build` before the CLI tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? NSTemporaryDirectory())
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test("a usage error exits 3 (UNKNOWN), not the parser's 64, and says what was wrong")
    func usageError() throws {
        let output = try run(["run", "--bogus"])
        #expect(output.code == 3)
        #expect(output.stderr.contains("Unknown option '--bogus'"))
        let only = try run(["run", "--only", "nosuch"])
        #expect(only.code == 3)
        #expect(only.stderr.contains("'nosuch' is not a check id, a service or a layer"))
        let format = try run(["run", "--format", "xml"])
        #expect(format.code == 3)
    }

    @Test("--help exits 0 and names the exit codes")
    func help() throws {
        let output = try run(["--help"])
        #expect(output.code == 0)
        #expect(output.stdout.contains("0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"))
    }

    @Test("a bad config exits 3 with file, line and column, for run and validate")
    func badConfig() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let file = try dir.write("bad.yaml", "probe:\n  timeout: 3\n")
        for command in ["run", "validate"] {
            let output = try run([command, "--config", file])
            #expect(output.code == 3)
            #expect(output.stderr.contains("\(file):2:12: probe.timeout: '3' is not a duration"))
        }
        let missing = try run(["validate", "--config", dir.file("nope.yaml")])
        #expect(missing.code == 3)
        #expect(missing.stderr.contains("nope.yaml: cannot read the config file"))
        let fromEnv = try run(["validate"], env: ["CLEARML_PROBE_CONFIG": file])
        #expect(fromEnv.code == 3)
    }

    @Test("validate accepts the built-in config from any folder and says what would not run")
    func validateBuiltIn() throws {
        let output = try run(["validate"])
        #expect(output.code == 0)
        #expect(output.stdout.contains("<built-in probes/clearml.yaml>: valid"))
        #expect(output.stdout.contains("ingress.routes: not run: no public address"))
    }

    @Test("run against nothing: exit 2 with root causes first, what was not checked, and no colour when piped")
    func textReport() throws {
        let closed = Ports.closed()
        let output = try run(
            ["run", "--only", "application"],
            env: [
                "CLEARML_PROBE_APISERVER_URL": "http://127.0.0.1:\(closed)",
                "CLEARML_PROBE_WEBSERVER_URL": "http://127.0.0.1:\(closed)",
                "CLEARML_PROBE_TIMEOUT": "500ms",
            ])
        #expect(output.code == 2)
        #expect(output.stdout.hasPrefix("CRITICAL clearml-probe: "))
        let rootCauses = try #require(output.stdout.range(of: "Root causes"))
        let checks = try #require(output.stdout.range(of: "\nChecks"))
        #expect(rootCauses.lowerBound < checks.lowerBound, "root causes come first")
        #expect(output.stdout.contains("connection refused at 127.0.0.1:\(closed)"))
        #expect(output.stdout.contains("Not checked"))
        #expect(!output.stdout.contains("\u{1B}["), "no colour codes when stdout is not a terminal")
    }

    @Test("--format json follows the contract: fields, lowercase statuses, root_cause null or a key")
    func jsonReport() throws {
        let closed = Ports.closed()
        let output = try run(
            ["run", "--only", "apiserver.ping", "--only", "webserver.ui", "--format", "json"],
            env: [
                "CLEARML_PROBE_APISERVER_URL": "http://127.0.0.1:\(closed)",
                "CLEARML_PROBE_WEBSERVER_URL": "http://127.0.0.1:\(closed)",
            ])
        #expect(output.code == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(json["status"] as? String == "critical")
        #expect(json["started_at"] is String)
        #expect(json["duration_ms"] is NSNumber)
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.count == 5)
        for check in checks {
            for field in [
                "key", "id", "layer", "target", "status", "summary", "duration_ms", "metrics", "error", "root_cause",
            ] {
                #expect(check.keys.contains(field), "check has \(field)")
            }
            #expect(["ok", "warning", "critical", "unknown"].contains(check["status"] as? String ?? ""))
        }
        let ping = try #require(checks.first { $0["key"] as? String == "apiserver.ping" })
        #expect(ping["root_cause"] is NSNull)
        // Nothing of the stack answers: one finding (the probe's network or addresses), the rest its symptoms.
        #expect(String(describing: ping["summary"] ?? "").contains("reaches none of the stack's services"))
        let proxy = try #require(checks.first { $0["key"] as? String == "webserver.ui/api" })
        #expect(proxy["root_cause"] as? String == "apiserver.ping")
        let roots = try #require(json["root_causes"] as? [String])
        #expect(roots == ["apiserver.ping"])
    }

    @Test("secrets from the environment and from *_FILE never reach the output or errors")
    func noSecrets() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let secretFile = try dir.write("secret", "file-secret-9f8e7d\n")
        let closed = Ports.closed()
        for format in ["text", "json"] {
            let output = try run(
                ["run", "--format", format],
                env: [
                    "CLEARML_API_ACCESS_KEY": "ACCESSKEY12345", "CLEARML_API_SECRET_KEY_FILE": secretFile,
                    "CLEARML_PROBE_APISERVER_URL": "http://user:pa55word@127.0.0.1:\(closed)",
                    "CLEARML_WEB_HOST": "http://probe:hunter2@127.0.0.1:\(closed)",
                    "CLEARML_PROBE_TIMEOUT": "300ms",
                ])
            for secret in ["file-secret-9f8e7d", "ACCESSKEY12345", "pa55word", "hunter2"] {
                #expect(!output.stdout.contains(secret), "\(format) stdout leaks \(secret)")
                #expect(!output.stderr.contains(secret), "\(format) stderr leaks \(secret)")
            }
        }
    }

    @Test("--read-only skips writing checks and says so")
    func readOnly() throws {
        let output = try run(["run", "--read-only", "--only", "fileserver.roundtrip", "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let notChecked = try #require(json["not_checked"] as? [[String: Any]])
        #expect(notChecked.first?["reason"] as? String == "skipped: --read-only (this check writes)")
    }
}
