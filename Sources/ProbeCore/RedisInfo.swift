import Foundation

/// Redis `INFO` output: `# Section` headers and `key:value` lines (docs/data-stores.md, "Redis").
public struct RedisInfo: Sendable, Equatable {
    public var fields: [String: String]

    public init(_ text: String) {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            fields[String(trimmed[..<colon])] = String(trimmed[trimmed.index(after: colon)...])
        }
        self.fields = fields
    }

    public subscript(key: String) -> String? { fields[key] }

    /// A finite number; `nan`, `inf` and text are nil (a server may send anything).
    public func number(_ key: String) -> Double? {
        fields[key].flatMap { Double($0) }.flatMap { $0.isFinite ? $0 : nil }
    }
}
