import Foundation
import NativeClients
import ProbeCore
import Testing

@testable import Probes

/// Every error of docs/clearml-api.md, "Calls" becomes a summary a person can act on, with the right status and dependencies.
@Suite struct ClearMLProblemTests {
    static let config = ProbeConfig(
        services: .init(apiserver: URL(string: "http://apiserver:8008")!),
        credentials: .init(accessKey: Secret("KEYKEYKEY"), secretKey: Secret("SECRETSECRET")))
    static let direct = ClearMLEndpoint(
        target: "direct", base: URL(string: "http://apiserver:8008")!, viaIngress: false)
    static let ingress = ClearMLEndpoint(
        target: "ingress", base: URL(string: "https://api.example.com")!, viaIngress: true)

    static func envelope(_ code: Int, _ subcode: Int, _ message: String) -> HTTPResponse {
        let body =
            #"{"meta":{"result_code":\#(code),"result_subcode":\#(subcode),"result_msg":"\#(message)"},"data":null}"#
        return HTTPResponse(
            status: code, headers: [("content-type", "application/json"), ("server", "clearml")], body: Data(body.utf8))
    }

    static func problem(
        _ response: HTTPResponse, bearer: Bool = true, endpoint: ClearMLEndpoint = direct, basicWorked: Bool = false
    ) -> ClearMLProblem {
        let call = ClearMLCall(
            "queues.get_all", on: endpoint, auth: bearer ? .bearer(Secret("TOKENTOKEN")) : .basic(config.credentials!),
            config: config)
        return ClearMLProblem.answer(
            response, call: call, basicLoginWorked: basicWorked, redactor: Redactor(config.secrets))
    }

    struct Row: Sendable, CustomStringConvertible {
        var code: Int, subcode: Int, message: String, status: Status, words: String, dependsOn: [Dependency]
        var description: String { "\(code)/\(subcode)" }
    }

    static let rows: [Row] = [
        Row(
            code: 401, subcode: 20, message: "Unauthorized (missing credentials)", status: .critical,
            words: "drops the Authorization header", dependsOn: []),
        Row(
            code: 401, subcode: 21, message: "Unauthorized (malformed credentials) (x)", status: .unknown,
            words: "the probe is blind", dependsOn: []),
        Row(
            code: 401, subcode: 22,
            message: "Unauthorized (invalid credentials) (failed to locate provided credentials)", status: .unknown,
            words: "the probe is blind: its key is rejected", dependsOn: [.check(.apiserverLoginMode)]),
        Row(
            code: 401, subcode: 10, message: "Unauthorized (bad authentication header type)", status: .critical,
            words: "a proxy rewrites it", dependsOn: []),
        Row(
            code: 401, subcode: 30, message: "Invalid token (invalid jwt token): reason=Signature verification failed",
            status: .critical,
            words: "signed with another key", dependsOn: []),
        Row(
            code: 401, subcode: 30, message: "Invalid token (revoked token)", status: .critical, words: "revoked",
            dependsOn: []),
        Row(
            code: 403, subcode: 20, message: "Forbidden (not allowed for role): role=guest", status: .unknown,
            words: "blind", dependsOn: []),
        Row(
            code: 500, subcode: 1, message: "Internal server error: err=mongo:27017 refused", status: .critical,
            words: "MongoDB", dependsOn: [.service(.mongo)]),
        Row(
            code: 500, subcode: 4, message: "Critical server error! Server reports low or insufficient disk space.",
            status: .critical,
            words: "Elasticsearch refuses writes: its disk is low", dependsOn: [.service(.elasticsearch)]),
        Row(
            code: 500, subcode: 100, message: "General data error (failed loading worker entries)", status: .critical,
            words: "Redis",
            dependsOn: [.service(.redis)]),
        Row(
            code: 404, subcode: 0, message: "Unable to find endpoint for name queues.get_all and version 2.1",
            status: .critical,
            words: "does not know this endpoint", dependsOn: []),
        Row(
            code: 400, subcode: 12, message: "Validation error", status: .critical,
            words: "refused the request as invalid", dependsOn: []),
    ]

    @Test(arguments: rows)
    func envelopes(_ row: Row) {
        let problem = Self.problem(Self.envelope(row.code, row.subcode, row.message))
        #expect(problem.status == row.status)
        #expect(problem.summary.contains(row.words), "\(problem.summary)")
        #expect(problem.summary.contains("\(row.code)/\(row.subcode)"))
        #expect(problem.dependsOn == row.dependsOn)
        #expect(problem.hint?.isEmpty == false)
    }

    @Test func plainFiveHundredOnBearerIsRedisAndGatewayPagesNameTheIngress() {
        let crash = HTTPResponse(
            status: 500, headers: [("server", "clearml")], body: Data("Failed processing request /queues.get_all".utf8))
        let redis = Self.problem(crash, basicWorked: true)
        #expect(
            redis.summary.contains("while auth.login with Basic credentials works") && redis.summary.contains("Redis"))
        #expect(redis.dependsOn == [.service(.redis)])
        #expect(!Self.problem(crash, bearer: false).summary.contains("Redis"))

        let gateway = HTTPResponse(
            status: 502,
            body: Data("<html><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></html>".utf8))
        #expect(
            Self.problem(gateway, endpoint: Self.ingress).summary.contains(
                "nginx could not get an answer from the apiserver"))
        #expect(Self.problem(gateway).summary.contains("a proxy in front of the apiserver"))
    }

    @Test func secretsInAnswersAreRedacted() {
        let echo = Self.envelope(400, 11, "bad field: KEYKEYKEY SECRETSECRET")
        let problem = Self.problem(echo)
        #expect(!problem.summary.contains("SECRETSECRET") && !(problem.evidence ?? "").contains("SECRETSECRET"))
        #expect(!problem.summary.contains("KEYKEYKEY"))
    }

    @Test func clearmlTimes() {
        #expect(
            ClearMLTime.parse("2025-01-01T10:00:00.123456+00:00")?.timeIntervalSince1970 ?? 0 == 1_735_725_600.123456)
        #expect(ClearMLTime.parse("2025-01-01T10:00:00Z")?.timeIntervalSince1970 == 1_735_725_600)
        #expect(ClearMLTime.parse("2025-01-01T12:00:00+02:00")?.timeIntervalSince1970 == 1_735_725_600)
        #expect(ClearMLTime.parse("2025-01-01T10:00:00")?.timeIntervalSince1970 == 1_735_725_600)
        #expect(ClearMLTime.parse(.number(1_735_725_600))?.timeIntervalSince1970 == 1_735_725_600)
        #expect(ClearMLTime.parse("yesterday") == nil)
    }

    @Test func multipartBodyNamesTheTargetPathAsField() {
        let form = MultipartForm(
            field: ".clearml-probe/x/a.bin", filename: "a.bin", content: Data([0, 1, 2]), boundary: "B")
        let expected =
            "--B\r\nContent-Disposition: form-data; name=\".clearml-probe/x/a.bin\"; filename=\"a.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n\u{0}\u{1}\u{2}\r\n--B--\r\n"
        #expect(form.body == Data(expected.utf8))
        #expect(form.contentType == "multipart/form-data; boundary=B")
    }
}
