import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// ClearML server 2.0 to 2.2 (server.info open, older API versions) work like 2.3.
@Suite(.serialized)
struct ServerVersionsTests {
    @Test(arguments: [("2.0.0", "2.31"), ("2.1.0", "2.32"), ("2.2.0", "2.33")])
    func olderServers(_ version: String, _ api: String) async throws {
        // Not stopped here: TestProcess.stop() waits about 3 s; the double dies with the test process.
        let clearml = try ClearMLDoubleFixture(arguments: ["--server-version", version])
        let report = await clearml.run(
            try clearml.loaded(
                checks: "  apiserver.auth: {}\n  fileserver.roundtrip: {}\n  agents.workers: {}\n  queues.backlog: {}"),
            only: [.apiserverAuth, .fileserverRoundtrip, .agentsWorkers, .queuesBacklog])
        #expect(report.status == .ok, "\(TextReport(colour: false).render(report))")
        #expect(
            report.result("apiserver.auth/direct")?.summary.contains("ClearML server \(version) (API \(api))") == true)
    }
}

/// Every scenario of the double, all output searched for the probe's secret, its Basic header value and its tokens.
@Suite(.serialized)
final class SecretsNeverPrintedTests {
    static let fixture = Result { try ClearMLDoubleFixture() }

    static let scenarios: [(role: String, scenario: String)] = {
        var all: [(String, String)] = []
        for role in ["api", "files", "web"] {
            for name in ["ok", "down", "hang", "slow:100", "garbage", "5xx"] { all.append((role, name)) }
        }
        for name in [
            "mongo_down:200", "mongo_down", "redis_down", "es_disk", "bad_credentials", "revoked", "role_forbidden",
        ] { all.append(("api", name)) }
        for name in ["token_rejected", "too_large", "unsupported_encoding", "storage_readonly"] {
            all.append(("files", name))
        }
        for name in ["api_proxy_down", "files_proxy_down"] { all.append(("web", name)) }
        return all
    }()

    @Test func noScenarioPrintsTheSecretOrTheToken() async throws {
        let clearml = try Self.fixture.get()
        let loaded = try clearml.loaded(checks: ClearMLDoubleFixture.allChecks, timeout: "700ms")
        let only = Selection(ids: ClearMLDoubleFixture.allCheckIDs)
        let basic = Data("\(ClearMLDoubleFixture.accessKey):\(ClearMLDoubleFixture.secretKey)".utf8)
            .base64EncodedString()
        var tokens: Set<String> = []
        var outputs: [String] = []
        for (role, scenario) in Self.scenarios {
            try await clearml.reset()
            let state = ProbeState()
            // A first healthy pass gives the state a token, so the faults also meet a reused one.
            _ = await Engine(loaded: loaded).run(selection: only, state: state)
            try await clearml.scenario(
                api: role == "api" ? scenario : nil, files: role == "files" ? scenario : nil,
                web: role == "web" ? scenario : nil)
            let report = await Engine(loaded: loaded).run(selection: only, state: state)
            tokens.formUnion(await state.tokens.knownTokens.map(\.exposed))
            outputs.append(TextReport(colour: false).render(report))
            outputs.append(String(decoding: ReportJSON.encode(report), as: UTF8.self))
            for result in report.results {
                outputs.append(
                    [result.summary, result.hint ?? "", result.error ?? "", result.evidence ?? ""].joined(
                        separator: "\n"))
            }
        }
        #expect(!tokens.isEmpty)
        let all = outputs.joined(separator: "\n")
        #expect(!all.contains(ClearMLDoubleFixture.secretKey))
        #expect(!all.contains(basic))
        for token in tokens {
            #expect(!all.contains(token))
            #expect(!all.contains(String(token.split(separator: ".").last ?? "")), "a token's signature was printed")
        }
        #expect(try await clearml.count("files", "delete_many") == 0)
    }

    @Test func theCommandLineKeepsThemOutOfStdoutAndStderr() async throws {
        let clearml = try Self.fixture.get()
        let binary = Repository.path(".build/debug/clearml-probe")
        guard try Prerequisite.executable(binary) else { return }
        let folder = try TempDirectory("secrets")
        defer { folder.remove() }
        let config = try folder.write(
            "probe.yaml", clearml.yaml(checks: "  apiserver.auth: {}\n  fileserver.roundtrip: {}\n  agents.workers: {}")
        )
        for scenario in ["ok", "bad_credentials", "redis_down", "revoked"] {
            try await clearml.reset()
            try await clearml.scenario(api: scenario)
            for format in ["text", "json"] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = [
                    "run", "--config", config, "--format", format, "--only", "application", "--only", "execution",
                ]
                let out = Pipe()
                let err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                let stdout = out.fileHandleForReading.readDataToEndOfFile()
                let stderr = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let text = String(decoding: stdout + stderr, as: UTF8.self)
                #expect(!text.contains(ClearMLDoubleFixture.secretKey), "\(scenario) \(format)")
                #expect(!text.isEmpty)
                if scenario == "ok" { #expect(process.terminationStatus == 0, "\(text)") }
            }
        }
    }
}
