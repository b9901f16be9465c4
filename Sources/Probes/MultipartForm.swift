import Foundation

/// A `multipart/form-data` body with one file part, as the ClearML fileserver takes uploads: the part's field name is
/// the target path under the upload root (docs/clearml-api.md, "Calls").
public struct MultipartForm: Sendable {
    public var boundary: String
    public var body: Data

    /// `field` is the target path; `filename` marks the part as a file (the fileserver ignores non-file fields).
    public init(field: String, filename: String, content: Data, boundary: String = "clearml-probe-" + UUID().uuidString)
    {
        self.boundary = boundary
        var body = Data()
        body.append(Data("--\(boundary)\r\n".utf8))
        body.append(
            Data(
                "Content-Disposition: form-data; name=\"\(Self.quoted(field))\"; filename=\"\(Self.quoted(filename))\"\r\n"
                    .utf8))
        body.append(Data("Content-Type: application/octet-stream\r\n\r\n".utf8))
        body.append(content)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        self.body = body
    }

    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Quotes and line breaks cannot appear in a quoted parameter; the probe's own names never contain them.
    static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
    }
}
