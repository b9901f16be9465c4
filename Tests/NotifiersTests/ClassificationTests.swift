import Foundation
import Notifiers
import ProbeCore
import Testing

@Suite struct ClassificationTests {
    static let slack = SlackDestination(name: "slack", url: Secret("https://hooks.slack.com/services/T1/B2/XYZ"))
    static let webhook = try! WebhookDestination(name: "hooks", url: Secret("https://hooks.example.com/x"), secret: nil)

    static func kind(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered: "delivered"
        case .retry(let after, _): after.map { "retry:\(Int($0))" } ?? "retry"
        case .permanent: "permanent"
        }
    }

    @Test(arguments: [
        (200, "ok", [String: String](), "delivered", false),
        (429, "", ["Retry-After": "7"], "retry:7", false),
        (500, "rollup_error", [:], "retry", false),
        (503, "", [:], "retry", false),
        (400, "invalid_payload", [:], "permanent", false),
        (403, "action_prohibited", [:], "permanent", true),
        (404, "no_service", [:], "permanent", true),
        (404, "channel_not_found", [:], "permanent", true),
        (410, "channel_is_archived", [:], "permanent", true),
        (301, "", ["Location": "https://elsewhere"], "permanent", false),
    ])
    func slack(status: Int, body: String, headers: [String: String], expected: String, disables: Bool) {
        let response = DeliveryResponse(status: status, headers: headers, body: body)
        #expect(Self.kind(Self.slack.classify(response)) == expected)
        #expect(Self.slack.disables(response) == disables)
    }

    @Test(arguments: [
        (200, [String: String](), "delivered", false),
        (204, [:], "delivered", false),
        (410, [:], "permanent", true),
        (429, ["retry-after": "30"], "retry:30", false),
        (502, [:], "retry", false),
        (504, ["Retry-After": "2"], "retry:2", false),
        (500, [:], "retry", false),
        (400, [:], "permanent", false),
        (401, [:], "permanent", false),
        (404, [:], "permanent", false),
        (302, [:], "permanent", false),
    ])
    func webhook(status: Int, headers: [String: String], expected: String, disables: Bool) {
        let response = DeliveryResponse(status: status, headers: headers, body: "")
        #expect(Self.kind(Self.webhook.classify(response)) == expected)
        #expect(Self.webhook.disables(response) == disables)
    }

    @Test func noAnswerIsRetried() {
        let response = DeliveryResponse(status: nil, transportError: "timeout waiting for the first byte of the response")
        #expect(Self.kind(Self.slack.classify(response)) == "retry")
        #expect(Self.kind(Self.webhook.classify(response)) == "retry")
    }

    @Test func retryAfterAsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_787_392_920)  // Sat, 22 Aug 2026 10:02:00 GMT
        #expect(RetryAfter.seconds(["Retry-After": "Sat, 22 Aug 2026 10:02:30 GMT"], now: now) == 30)
        #expect(RetryAfter.seconds(["Retry-After": "soon"], now: now) == nil)
    }
}
