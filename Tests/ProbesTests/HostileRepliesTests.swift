import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// Replies that once crashed the probe (a number that fits no `Int`, a `"nan"`), served by a real nginx and read by
/// the apiserver ping exactly as the check reads it: each gives a failed result that says what was wrong.
@Suite("Hostile replies give results, not crashes", .serialized)
struct HostileRepliesTests {
    static let replies: [(String, String)] = [
        ("code-1e300", #"{"meta":{"result_code":1e300}}"#),
        ("code-nan", #"{"meta":{"result_code":"nan"}}"#),
        ("code-inf", #"{"meta":{"result_code":"-inf","result_subcode":1e300}}"#),
        ("code-fraction", #"{"meta":{"result_code":200.5},"data":{"msg":"ClearML server"}}"#),
        ("code-huge-int", #"{"meta":{"result_code":9223372036854775808},"data":{"msg":"ClearML server"}}"#),
        ("deep", String(repeating: "[", count: 3000)),
    ]

    @Test func theApiserverPingSurvivesEveryCrashReply() async throws {
        let port = Ports.free()
        let locations = Self.replies.map { name, body in
            "location = /\(name) { default_type application/json; return 200 '\(body)'; }"
        }.joined(separator: "\n")
        let nginx = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(port);
                    access_log off;
                    \(locations)
                }
                """, waitPort: port)
        defer { nginx.stop() }
        let context = CheckContext(
            id: .apiserverPing, config: ProbeConfig(), settings: CheckSettings(timeout: 5, slowWarning: 5),
            deadline: .now + .seconds(60), state: ProbeState())
        for (name, _) in Self.replies {
            let url = URL(string: "http://127.0.0.1:\(port)/\(name)")!
            let expectation = HTTPExpectation(
                target: "", what: "debug.ping", request: context.directRequest(url: url), body: .clearmlPing)
            let result = await expectation.run(context, builder: ResultBuilder(id: .apiserverPing))
            #expect(result.status != .ok, "\(name): \(result.summary)")
            #expect(!result.summary.isEmpty)
        }
    }

    @Test func envelopesWithNumbersOutOfRangeAreNotEnvelopes() {
        #expect(ClearMLEnvelope(body: Data(#"{"meta":{"result_code":1e300}}"#.utf8)) == nil)
        #expect(ClearMLEnvelope(body: Data(#"{"meta":{"result_code":"nan"}}"#.utf8)) == nil)
        let ok = ClearMLEnvelope(body: Data(#"{"meta":{"result_code":200,"result_subcode":1e300}}"#.utf8))
        #expect(ok?.resultCode == 200)
        #expect(ok?.resultSubcode == 0)
    }

    @Test func numbersOutOfRangeReadAsNothingOrSaturate() {
        #expect(JSONValue.number(1e300).int == nil)
        #expect(JSONValue.string("nan").double == nil)
        #expect(JSONValue.string("inf").int == nil)
        #expect(JSONValue.number(42).int == 42)
        #expect(JSONValue.string(" 7 ").int == 7)
        #expect((1e300).saturatingInt == .max)
        #expect((-Double.infinity).saturatingInt == .min)
        #expect(Double.nan.saturatingInt == 0)
        #expect(Durations.format(seconds: 1e300).hasSuffix(" d"))
        #expect(Durations.format(seconds: -1e300).hasSuffix(" ms"))
        #expect(ByteSize.format(1e300).contains(" "))
        #expect(ByteSize.format(-1e300).hasSuffix(" B"))
        let info = RedisInfo("connected_clients:nan\r\nmaxclients:inf\r\nuptime_in_seconds:1e300\r\n")
        #expect(info.number("connected_clients") == nil)
        #expect(info.number("maxclients") == nil)
        #expect(info.number("uptime_in_seconds") == 1e300)
    }
}
