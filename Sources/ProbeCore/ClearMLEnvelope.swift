import Foundation

/// The apiserver's reply envelope: `{"meta":{…,"result_code","result_subcode","result_msg"},"data":…}`, where the
/// HTTP status always equals `meta.result_code` (docs/clearml-api.md, "Calls").
public struct ClearMLEnvelope: Sendable, Equatable {
    public var resultCode: Int
    public var resultSubcode: Int
    public var resultMessage: String
    public var actualVersion: String?
    public var data: JSONValue

    /// nil when the body is not an envelope (not JSON, or no `meta.result_code`).
    public init?(body: Data) {
        var data: JSONValue = .null
        guard let envelope = Self.scan(body, data: { data = try $0.value() }) else { return nil }
        self = envelope
        self.data = data
    }

    init?(meta: JSONValue?, data: JSONValue) {
        guard let meta, let code = meta["result_code"]?.int else { return nil }
        resultCode = code
        resultSubcode = meta["result_subcode"]?.int ?? 0
        resultMessage = meta["result_msg"]?.string ?? ""
        actualVersion = meta.at("endpoint.actual_version")?.string
        self.data = data
    }

    /// Reads the envelope of `body` and hands its `data` value to `readData` unbuilt, so a big reply is read for the
    /// fields a check needs without a tree of it (the returned envelope's `data` is null). nil when the body is not an
    /// envelope; `readData` may then have seen part of it, so a caller uses what it gathered only on a non-nil answer.
    public static func scan(_ body: Data, data readData: (inout JSONScanner) throws -> Void) -> ClearMLEnvelope? {
        var meta: JSONValue?
        let read = JSONScanner.scan(body) { scanner in
            try scanner.members { key, scanner in
                if key == "meta" {
                    meta = try scanner.value()
                } else if key == "data" {
                    try readData(&scanner)
                }
            }
        }
        guard read == true else { return nil }
        return ClearMLEnvelope(meta: meta, data: .null)
    }

    /// "401/22".
    public var code: String { "\(resultCode)/\(resultSubcode)" }
}
