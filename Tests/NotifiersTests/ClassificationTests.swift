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
        // The receiver gave up waiting for the request: nothing was posted (it was permanent before all platforms
        // shared one set of answer classes).
        (408, "", [:], "retry", false),
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
        (408, [:], "retry", false),
    ])
    func webhook(status: Int, headers: [String: String], expected: String, disables: Bool) {
        let response = DeliveryResponse(status: status, headers: headers, body: "")
        #expect(Self.kind(Self.webhook.classify(response)) == expected)
        #expect(Self.webhook.disables(response) == disables)
    }

    @Test func noAnswerIsRetried() {
        let response = DeliveryResponse(
            status: nil, transportError: "timeout waiting for the first byte of the response")
        #expect(Self.kind(Self.slack.classify(response)) == "retry")
        #expect(Self.kind(Self.webhook.classify(response)) == "retry")
    }

    @Test func retryAfterAsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_787_392_920)  // Sat, 22 Aug 2026 10:02:00 GMT
        #expect(RetryAfter.seconds(["Retry-After": "Sat, 22 Aug 2026 10:02:30 GMT"], now: now) == 30)
        #expect(RetryAfter.seconds(["Retry-After": "soon"], now: now) == nil)
        #expect(
            RetryAfter.seconds(["Retry-After": "Sat, 22 Aug 2026 10:01:00 GMT"], now: now) == 0,
            "a date past is no wait")
        #expect(RetryAfter.seconds(["Retry-After": "Sat, 29 Aug 2026 10:02:00 GMT"], now: now) == RetryAfter.cap)
        #expect(
            RetryAfter.seconds(["Retry-After": "Sat, 31 Feb 2026 10:02:00 GMT"], now: now) == nil, "no 31st of February"
        )
        #expect(RetryAfter.seconds(["Retry-After": "-5"], now: now) == nil)
        #expect(RetryAfter.seconds(["Retry-After": "1e9"], now: now) == RetryAfter.cap)
    }

    @Test func utcTimesByArithmetic() {
        let now = Date(timeIntervalSince1970: 1_787_392_920.9)
        #expect(MessageText.time(now) == "2026-08-22 10:02 UTC")
        #expect(MessageText.timestamp(now) == "2026-08-22T10:02:00Z")
        #expect(MessageText.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(MessageText.timestamp(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(MessageText.timestamp(Date(timeIntervalSince1970: 951_825_600)) == "2000-02-29T12:00:00Z")
        #expect(MessageText.timestamp(Date(timeIntervalSince1970: 4_102_444_799)) == "2099-12-31T23:59:59Z")
        // Every day of four years (a leap year and a century's rules) round-trips through the date parser.
        for day in stride(from: 10_950, to: 12_420, by: 1) {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400 + 3_723)
            let text = MessageText.timestamp(date)
            #expect(text.hasSuffix("T01:02:03Z"))
            let parts = text.prefix(10).split(separator: "-").compactMap { Int($0) }
            let http =
                "Mon, \(String(format: "%02d", parts[2])) \(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][parts[1] - 1]) \(parts[0]) 01:02:03 GMT"
            #expect(RetryAfter.seconds(["Retry-After": http], now: date) == 0, "\(text) \(http)")
        }
    }
}
