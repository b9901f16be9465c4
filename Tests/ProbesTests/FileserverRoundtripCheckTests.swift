import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// `fileserver.roundtrip` against the ClearML double: every fileserver scenario (and the apiserver faults it depends
/// on) gives the right status, words and root cause, and the footprint stays inside `.clearml-probe/<instance>/`.
@Suite(.serialized)
final class FileserverRoundtripCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    func config(timeout: String = "2s", fresh: String = "10m", jitter: String = "0s", credentials: String? = nil) throws
        -> LoadedConfig
    {
        try clearml.loaded(
            checks: """
                  fileserver.roundtrip:
                    fresh_token_every: \(fresh)
                    fresh_token_jitter: \(jitter)
                  apiserver.auth: {}
                  apiserver.ping: {}
                """, timeout: timeout, credentials: credentials)
    }

    func run(_ loaded: LoadedConfig? = nil, state: ProbeState = ProbeState(), withAuth: Bool = true) async throws
        -> Report
    {
        let ids: Set<CheckID> =
            withAuth ? [.fileserverRoundtrip, .apiserverAuth, .apiserverPing] : [.fileserverRoundtrip]
        return await clearml.run(try loaded ?? config(), only: ids, state: state)
    }

    /// Every request the files role saw touches only the probe's folder (or `/` for the upload itself).
    func expectFootprint() async throws {
        for request in try await clearml.double.requests() where request["role"] as? String == "files" {
            let path = request["path"] as? String ?? ""
            let method = request["method"] as? String ?? ""
            #expect(
                path.hasPrefix("/.clearml-probe/probe-test/") || (path == "/" && method == "POST"),
                "touched \(method) \(path)")
        }
        #expect(try await clearml.count("files", "delete_many") == 0)
        #expect(try await clearml.count("api", "auth.logout") == 0)
    }

    @Test func roundtripOnBothPathsWithAFreshTokenFirst() async throws {
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        let ingress = try #require(report.result("fileserver.roundtrip/ingress"))
        #expect(direct.status == .ok, "\(direct.summary)")
        #expect(ingress.status == .ok, "\(ingress.summary)")
        #expect(direct.summary.contains("uploaded, read back and deleted 4 KB"))
        #expect(direct.summary.contains("a token it had not seen, validated through the apiserver"))
        #expect(ingress.summary.contains("through the ingress"))
        for metric in ["upload_ms", "download_ms", "cookie_download_ms", "delete_ms", "gone_ms", "size_bytes"] {
            #expect(direct.metrics[metric] != nil, "\(metric)")
        }
        #expect(direct.metrics["fresh_token"] == 1)
        let counters = try await clearml.counters()
        #expect(counters["files"]?["upload"] == 2 && counters["files"]?["delete"] == 2)
        #expect(counters["files"]?["token_cache_miss"] == 1)
        #expect(counters["api"]?["auth.login"] == 1)
        let state = try await clearml.double.control("/state", method: "GET") as? [String: Any]
        let storage = try #require(state?["storage"] as? String)
        let left =
            FileManager.default.enumerator(atPath: storage)?.allObjects.compactMap { $0 as? String }.filter {
                $0.hasSuffix(".bin")
            } ?? []
        #expect(left.isEmpty, "files left behind: \(left)")
        try await expectFootprint()
    }

    @Test func reusesTheValidatedTokenAndSendsAFreshOneOnlyWhenDue() async throws {
        let state = ProbeState()
        let loaded = try config(fresh: "1s")
        _ = try await run(loaded, state: state)
        let second = try await run(loaded, state: state)
        #expect(second.result("fileserver.roundtrip/direct")?.summary.contains("validated before") == true)
        #expect(try await clearml.count("api", "auth.login") == 1)
        #expect(try await clearml.count("files", "token_cache_miss") == 1)
        try await Task.sleep(for: .milliseconds(1100))
        let third = try await run(loaded, state: state)
        #expect(third.result("fileserver.roundtrip/direct")?.metrics["fresh_token"] == 1)
        #expect(try await clearml.count("files", "token_cache_miss") == 2)
        #expect(try await clearml.count("api", "auth.login") == 2)
        _ = try await run(loaded, state: state)
        #expect(try await clearml.count("files", "token_cache_miss") == 2)
        #expect(try await clearml.count("api", "auth.login") == 2)
        try await expectFootprint()
    }

    @Test func tokenRejectedWhileAuthWorksIsTheFileserversValidation() async throws {
        try await clearml.scenario(files: "token_rejected")
        let report = try await run()
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("401") && direct.summary.contains("token validation path"), "\(direct.summary)")
        #expect(direct.role == .rootCause)
        #expect(report.result("fileserver.roundtrip/ingress")?.rootCause == "fileserver.roundtrip/direct")
        #expect(report.rootCauses == ["fileserver.roundtrip/direct"])
        try await expectFootprint()
    }

    @Test func aFileserverThatIgnoresTheLoginCookieFailsTheBrowsersWay() async throws {
        try await clearml.scenario(files: "cookie_ignored")
        let report = try await run()
        #expect(report.result("apiserver.auth/direct")?.status == .ok)
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("rejects the login cookie clearml_token_basic"), "\(direct.summary)")
        #expect(direct.hint?.contains("cookie_names") == true)
        #expect(direct.role == .rootCause)
        #expect(report.result("fileserver.roundtrip/ingress")?.role == .symptom)
        #expect(report.rootCauses == ["fileserver.roundtrip/direct"])
        // The probe's file is deleted even so.
        #expect(try await clearml.count("files", "delete") == 2)
        try await expectFootprint()
    }

    @Test func theFileIsAlsoReadThroughTheWebserversFilesProxyWithTheCookie() async throws {
        let report = try await run()
        let proxied = try #require(report.result("fileserver.roundtrip/web-proxy"))
        #expect(proxied.status == .ok, "\(proxied.summary)")
        #expect(proxied.service == .webserver)
        #expect(
            proxied.summary.contains("the webserver's /files/ proxy") && proxied.summary.contains("login cookie"),
            "\(proxied.summary)")
        #expect(proxied.metrics["web_proxy_download_ms"] != nil)
        let throughWeb = try await clearml.double.requests().filter {
            $0["role"] as? String == "web"
                && ($0["path"] as? String ?? "").hasPrefix("/files/.clearml-probe/probe-test/direct-")
        }
        #expect(throughWeb.count == 1, "one read of the direct target's file through the proxy")
        let headers = throughWeb.first?["headers"] as? [String: String] ?? [:]
        #expect(headers["Cookie"] == "clearml_token_basic=<redacted>" && headers["Authorization"] == nil, "\(headers)")
        try await expectFootprint()
    }

    @Test func aBrokenFilesProxyIsASymptomOfTheWebserversProxyCheck() async throws {
        try await clearml.scenario(web: "files_proxy_down")
        let loaded = try clearml.loaded(
            checks: "  fileserver.roundtrip: {}\n  apiserver.auth: {}\n  apiserver.ping: {}\n  webserver.ui: {}",
            filesIngress: "")
        let report = await clearml.run(
            loaded, only: [.fileserverRoundtrip, .apiserverAuth, .apiserverPing, .webserverUI])
        #expect(report.result("fileserver.roundtrip/direct")?.status == .ok)
        let proxied = try #require(report.result("fileserver.roundtrip/web-proxy"))
        #expect(proxied.status == .critical)
        #expect(proxied.summary.contains("HTTP 502"), "\(proxied.summary)")
        #expect(proxied.rootCause == "webserver.ui/files", "\(proxied.rootCause ?? "none")")
        #expect(report.rootCauses == ["webserver.ui/files"])
    }

    @Test func noUploadMeansTheProxyReadIsNotTried() async throws {
        try await clearml.scenario(files: "storage_readonly")
        let report = try await run()
        let proxied = try #require(report.result("fileserver.roundtrip/web-proxy"))
        #expect(proxied.status == .unknown && proxied.summary.contains("not tried"), "\(proxied.summary)")
        #expect(proxied.role == .symptom)
    }

    @Test func tooLargeUnsupportedEncodingAndStorageFailuresEachHaveTheirWords() async throws {
        let cases: [(String, String)] = [
            ("too_large", "too large for the fileserver"),
            ("unsupported_encoding", "Content-Encoding"),
            ("storage_readonly", "storage volume is full or read-only"),
        ]
        for (scenario, words) in cases {
            try await clearml.reset()
            try await clearml.scenario(files: scenario)
            let report = try await run()
            let direct = try #require(report.result("fileserver.roundtrip/direct"))
            #expect(direct.status == .critical, "\(scenario)")
            #expect(direct.summary.contains(words), "\(scenario): \(direct.summary)")
            #expect(direct.role == .rootCause, "\(scenario): \(direct.role)")
            #expect(report.result("fileserver.roundtrip/ingress")?.role == .symptom, "\(scenario)")
            try await expectFootprint()
        }
    }

    @Test func hangWithAnUnseenTokenPointsAtTheValidationPath() async throws {
        try await clearml.scenario(files: "hang")
        let (report, seconds) = try await timed { try await run(try config(timeout: "1s")) }
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(
            direct.summary.contains("no answer") && direct.summary.contains("validates a token"), "\(direct.summary)")
        #expect(report.result("fileserver.roundtrip/ingress")?.status == .critical)
        #expect(seconds < 1 + 0.5 + 0.5)
    }

    @Test func fileserverDownIsRefused() async throws {
        try await clearml.scenario(files: "down")
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("connection refused") && direct.reachabilityFailure)
        #expect(report.result("fileserver.roundtrip/ingress")?.summary.contains("502") == true)
        #expect(report.result("fileserver.roundtrip/ingress")?.role == .symptom)
    }

    @Test func noUploadWhenTheApiserverDoesNotAnswerPing() async throws {
        try await clearml.scenario(api: "down")
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .unknown)
        #expect(direct.summary.contains("not tried") && direct.summary.contains("debug.ping"))
        #expect(direct.rootCause == "apiserver.ping")
        #expect(try await clearml.count("files", "upload") == 0)
    }

    @Test func failedLoginReusesTheLastTokenAndIsASymptomOfAuth() async throws {
        let state = ProbeState()
        let loaded = try config(
            timeout: "1s", fresh: "100ms",
            credentials: """
                  access_key: \(ClearMLDoubleFixture.accessKey)
                  secret_key: \(ClearMLDoubleFixture.secretKey)
                  token_reuse: 100ms
                """)
        #expect(try await run(loaded, state: state).status == .ok)
        try await clearml.scenario(api: "mongo_down")
        try await Task.sleep(for: .milliseconds(150))
        let (report, seconds) = try await timed { try await run(loaded, state: state) }
        let auth = try #require(report.result("apiserver.auth/direct"))
        #expect(auth.status == .critical && auth.summary.contains("MongoDB"), "\(auth.summary)")
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .warning, "\(direct.summary)")
        #expect(direct.summary.contains("auth.login fails") && direct.summary.contains("storage works"))
        #expect(direct.role == .symptom && direct.rootCause == "apiserver.auth/direct")
        #expect(try await clearml.count("files", "upload") == 4)
        #expect(seconds < 1 + 0.5 + 0.5)
    }

    @Test func rejectedKeyMeansNoUpload() async throws {
        try await clearml.scenario(api: "bad_credentials")
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .unknown)
        #expect(direct.summary.contains("no token"))
        #expect(try await clearml.count("files", "upload") == 0)
    }

    @Test func redisDownIsASymptomOfTheApiserversRedis() async throws {
        try await clearml.scenario(api: "redis_down")
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(direct.rootCause == "apiserver.auth/direct", "\(direct.role) \(direct.summary)")
    }

    @Test func ingressFaultIsTheIngress() async throws {
        try await clearml.scenario(web: "files_proxy_down")
        let report = try await run()
        #expect(report.result("fileserver.roundtrip/direct")?.status == .ok)
        let ingress = try #require(report.result("fileserver.roundtrip/ingress"))
        #expect(ingress.status == .critical && ingress.summary.contains("502"))
        #expect(ingress.role == .rootCause && ingress.service == .nginx)
    }

    @Test func somethingElseAnsweringIsNamed() async throws {
        try await clearml.scenario(files: "garbage")
        let report = try await run()
        let direct = try #require(report.result("fileserver.roundtrip/direct"))
        #expect(direct.status == .critical)
        #expect(direct.summary.contains("not with the list of saved paths"), "\(direct.summary)")
    }

    @Test func readOnlySkipsTheUpload() async throws {
        let report = await clearml.run(try config(), only: [.fileserverRoundtrip], readOnly: true)
        #expect(report.results.isEmpty)
        #expect(report.notChecked.contains { $0.id == .fileserverRoundtrip && $0.reason.contains("read-only") })
        #expect(try await clearml.count("files", "upload") == 0)
    }
}
