import Foundation
import ProbeCore
import Testing

@Suite struct JSONScannerTests {
    static func parse(_ text: String) -> JSONValue? { JSONValue.parse(Data(text.utf8)) }

    @Test(arguments: [
        ("null", JSONValue.null),
        (" true ", .bool(true)),
        ("false", .bool(false)),
        ("0", .number(0)),
        ("-12.5e2", .number(-1250)),
        ("1E+2", .number(100)),
        (#""plain""#, .string("plain")),
        (#""tab\tquote\"slash\/back\\""#, .string("tab\tquote\"slash/back\\")),
        (#""\u00e9\u20AC""#, .string("é€")),
        (#""\ud83d\ude00""#, .string("😀")),
        (#""\ud83d alone""#, .string("\u{FFFD} alone")),
        ("\"caf\u{e9}\"", .string("café")),
        ("[]", .array([])),
        ("{}", .object([:])),
        (
            #" { "a" : [ 1 , { "b" : null } ] , "c" : "d" } "#,
            .object(["a": .array([.number(1), .object(["b": .null])]), "c": .string("d")])
        ),
        (#"{"a":1,"a":2}"#, .object(["a": .number(2)])),
    ])
    func readsJSON(_ text: String, _ expected: JSONValue) {
        #expect(Self.parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "nul", "truex", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity",
        "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "{'a':1}", "[", "{", "\"open", "\"bad \\x escape\"",
        "\"\\u12\"", "\"raw\ncontrol\"", "[1] [2]", "{\"a\":1}}", "\"a\" 1",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(Self.parse(text) == nil)
        // A scan that skips everything still checks it.
        #expect(JSONScanner.scan(Data(text.utf8)) { try $0.skip() } == nil)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(Self.parse(deep) == nil)
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(Self.parse(fine) != nil)
    }

    @Test func bigNumbersAreNoUsableNumbers() {
        #expect(Self.parse("1e400")?.double == nil)
        #expect(Self.parse("1e300")?.int == nil)
        #expect(Self.parse("12345678901")?.int == 12_345_678_901)
    }

    @Test func readsOnlyWhatIsAskedAndSkipsTheRest() {
        let body = Data(
            #"{"skip":{"deep":[1,2,{"x":"y"}]},"keep":"yes","n":42,"s":"no number","e\u0078":"escaped key"}"#.utf8)
        var seen: [String: String] = [:]
        let read = JSONScanner.scan(body) { scanner in
            try scanner.members { key, scanner in
                if key == "keep" { seen["keep"] = try scanner.string() }
                if key == "n" { seen["n"] = try scanner.number().map { String($0) } }
                if key == "s" { seen["s"] = try scanner.number().map { String($0) } ?? "nil" }
                if key == "ex" { seen["ex"] = try scanner.string() }
            }
        }
        #expect(read == true)
        #expect(seen == ["keep": "yes", "n": "42.0", "s": "nil", "ex": "escaped key"])
    }

    @Test func aWrongTypeIsSkippedNotAFailure() {
        let body = Data(#"{"list":"not a list","object":[1]}"#.utf8)
        let kinds = JSONScanner.scan(body) { scanner -> [Bool] in
            var out: [Bool] = []
            try scanner.members { key, scanner in
                if key == "list" { out.append(try scanner.elements { _ in }) }
                if key == "object" { out.append(try scanner.members { _, _ in }) }
            }
            return out
        }
        #expect(kinds == [false, false])
    }

    @Test func brokenBytesAfterWhatWasReadStillFail() {
        // The part a caller wants is fine, the reply is cut: no partial answer.
        let body = Data(#"{"keep":"yes","rest":[1,2,"#.utf8)
        #expect(JSONScanner.scan(body) { scanner in try scanner.members { _, _ in } } == nil)
    }

    @Test func envelopeScanHandsDataOverAndKeepsMeta() {
        let body = Data(
            #"{"data":{"workers":[{"id":"w"}]},"meta":{"result_code":200,"result_subcode":0,"result_msg":"OK","endpoint":{"actual_version":"2.4"}}}"#
                .utf8)
        var ids: [String] = []
        let envelope = ClearMLEnvelope.scan(body) { scanner in
            try scanner.members { key, scanner in
                guard key == "workers" else { return }
                try scanner.elements { scanner in
                    try scanner.members { key, scanner in
                        if key == "id", let id = try scanner.string() { ids.append(id) }
                    }
                }
            }
        }
        #expect(envelope?.resultCode == 200)
        #expect(envelope?.actualVersion == "2.4")
        #expect(envelope?.data == .null)
        #expect(ids == ["w"])
        #expect(ClearMLEnvelope(body: body)?.data == .object(["workers": .array([.object(["id": .string("w")])])]))
        #expect(ClearMLEnvelope.scan(Data(#"{"data":{}}"#.utf8)) { _ in } == nil)
        #expect(ClearMLEnvelope.scan(Data(#"{"meta":{"result_code":200},"data":{"#.utf8)) { _ in } == nil)
    }
}
