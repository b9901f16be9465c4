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
        guard let json = JSONValue.parse(body), let meta = json["meta"], let code = meta["result_code"]?.int else { return nil }
        resultCode = code
        resultSubcode = meta["result_subcode"]?.int ?? 0
        resultMessage = meta["result_msg"]?.string ?? ""
        actualVersion = meta.at("endpoint.actual_version")?.string
        data = json["data"] ?? .null
    }

    /// "401/22".
    public var code: String { "\(resultCode)/\(resultSubcode)" }
}
