import Foundation

/// A parsed JSON reply: Sendable, with path lookups, so checks can read peers' answers without Codable ceremony.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses bytes (any JSON value, also a bare string or number); nil when they are not JSON or nest deeper than
    /// `JSONScanner.maxDepth`. Big replies are better read with `JSONScanner` directly, keeping only what is needed.
    public static func parse(_ data: Data) -> JSONValue? {
        JSONScanner.scan(data) { try $0.value() }
    }

    public init?(any: Any) {
        switch any {
        case is NSNull: self = .null
        case let value as NSNumber:
            // On Linux a JSON boolean arrives as an NSNumber whose objCType is "c" (char).
            if String(cString: value.objCType) == "c" {
                self = .bool(value.boolValue)
            } else {
                self = .number(value.doubleValue)
            }
        case let value as String: self = .string(value)
        case let value as [Any]: self = .array(value.compactMap(JSONValue.init(any:)))
        case let value as [String: Any]: self = .object(value.compactMapValues(JSONValue.init(any:)))
        default: return nil
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// `value["a.b.c"]`-style lookup through nested objects.
    public func at(_ path: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in path.split(separator: ".") {
            current = current?[String(part)]
        }
        return current
    }

    public var string: String? {
        switch self {
        case .string(let value): value
        case .number(let value):
            value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .bool(let value): String(value)
        default: nil
        }
    }

    /// A finite number: `NaN` and infinities (a string `"nan"`, `1e400`) are not numbers a check can use.
    public var double: Double? {
        switch self {
        case .number(let value): value.isFinite ? value : nil
        case .string(let value): Double(value.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// A whole number that fits an `Int`; nil for fractions, non-finite values and anything out of range (`1e300`),
    /// which a peer may send and `Int(_:)` would trap on.
    public var int: Int? { double.flatMap { Int(exactly: $0) } }

    public var bool: Bool? {
        switch self {
        case .bool(let value): value
        case .string(let value):
            ["true", "1"].contains(value.lowercased())
                ? true : (["false", "0"].contains(value.lowercased()) ? false : nil)
        case .number(let value): value != 0
        default: nil
        }
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }
}
