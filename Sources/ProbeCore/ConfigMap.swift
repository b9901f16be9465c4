import Foundation
import Yams

/// A YAML mapping read strictly: every accessor records the key it consumed and `finish()` rejects the rest, and every
/// error names the file, line and column. Values are environment-substituted after parsing.
///
/// Not Sendable on purpose: a config is read in one place, into Sendable settings structs.
public final class ConfigMap {
    public let file: String
    /// Dotted path for messages (`checks.ingress.routes`).
    public let path: String
    let mapping: Node.Mapping
    let mark: Mark?
    let substitution: EnvironmentSubstitution
    private var consumed: Set<String> = []

    init(file: String, path: String, mapping: Node.Mapping, mark: Mark?, substitution: EnvironmentSubstitution) {
        self.file = file
        self.path = path
        self.mapping = mapping
        self.mark = mark
        self.substitution = substitution
    }

    /// Parses a whole document; an empty document is an empty mapping.
    public static func parse(yaml: String, file: String, substitution: EnvironmentSubstitution) throws -> ConfigMap {
        let node: Node?
        do {
            // The basic resolver: values are read from the scalar text below, and the default one runs ICU regular
            // expressions over every scalar to guess a tag we never use (their code and data then stay resident).
            node = try Yams.compose(yaml: yaml, .basic)
        } catch let error as YamlError {
            throw ConfigMap.yamlError(error, file: file)
        }
        guard let node else {
            return ConfigMap(file: file, path: "", mapping: Node.Mapping([]), mark: nil, substitution: substitution)
        }
        guard case .mapping(let mapping) = node else {
            throw ConfigError(
                file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1,
                message: "the top level must be a mapping of sections")
        }
        return ConfigMap(file: file, path: "", mapping: mapping, mark: node.mark, substitution: substitution)
    }

    static func yamlError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return located(problem, line: mark.line, column: mark.column, file: file)
        default:
            return located("\(error)", line: 1, column: 1, file: file)
        }
    }

    /// One line of message; Yams appends context lines and, for duplicate keys, the real position in words.
    static func located(_ problem: String, line: Int, column: Int, file: String) -> ConfigError {
        var message = problem.split(separator: "\n").first.map(String.init) ?? problem
        var line = line
        var column = column
        if let range = problem.range(of: #"in line (\d+), column (\d+)"#, options: .regularExpression) {
            let numbers = problem[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if numbers.count == 2 {
                line = numbers[0]
                column = numbers[1]
            }
        }
        message = message.replacingOccurrences(of: "Parser: ", with: "")
        return ConfigError(file: file, line: line, column: column, message: "invalid YAML: \(message)")
    }

    // MARK: - Keys

    /// All keys as written, in order.
    public var keys: [String] { mapping.compactMap { $0.key.scalar?.string } }

    public func contains(_ key: String) -> Bool { node(key) != nil }

    func node(_ key: String) -> Node? {
        mapping.first { $0.key.scalar?.string == key }?.value
    }

    func keyNode(_ key: String) -> Node? {
        mapping.first { $0.key.scalar?.string == key }?.key
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func error(at node: Node?, _ message: String) -> ConfigError {
        let mark = node?.mark ?? self.mark
        return ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message)
    }

    public func error(key: String, _ message: String) -> ConfigError {
        error(at: node(key), "\(qualified(key)): \(message)")
    }

    /// An error pointing at a key itself (not its value), for keys that are wrong by name.
    public func error(atKey key: String, _ message: String) -> ConfigError {
        error(at: keyNode(key), message)
    }

    /// Marks keys as read without reading them (for keys handled elsewhere).
    public func consume(_ key: String) { consumed.insert(key) }

    /// Rejects every key that no accessor read.
    public func finish() throws {
        var seen: Set<String> = []
        for (keyNode, _) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw error(at: keyNode, "\(path.isEmpty ? "top level" : path): keys must be plain strings")
            }
            if !seen.insert(key).inserted {
                throw error(at: keyNode, "duplicate key '\(qualified(key))'")
            }
            if !consumed.contains(key) {
                let expected = consumed.sorted().joined(separator: ", ")
                let place = path.isEmpty ? "at the top level" : "in \(path)"
                throw error(at: keyNode, "unknown key '\(key)' \(place) (expected one of: \(expected))")
            }
        }
    }

    // MARK: - Scalars

    /// The substituted string value, or nil when absent. `null`/`~` count as absent.
    public func string(_ key: String) throws -> String? {
        consumed.insert(key)
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value else {
            throw error(key: key, "expected a single value, found \(kind(of: value))")
        }
        if scalar.style == .plain, ["~", "null", "Null", "NULL", ""].contains(scalar.string) { return nil }
        do {
            return try substitution.substitute(scalar.string)
        } catch {
            throw self.error(key: key, error.description)
        }
    }

    public func string(_ key: String, default defaultValue: String) throws -> String {
        try string(key) ?? defaultValue
    }

    /// A value that must not be empty after substitution, when present.
    public func nonEmptyString(_ key: String) throws -> String? {
        guard let value = try string(key) else { return nil }
        return value.isEmpty ? nil : value
    }

    public func secret(_ key: String) throws -> Secret? {
        try nonEmptyString(key).map(Secret.init)
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let text = try string(key), !text.isEmpty else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key: key, "'\(text)' is not a boolean (use true or false)")
        }
    }

    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let text = try string(key), !text.isEmpty else { return defaultValue }
        guard let value = Int(text) else { throw error(key: key, "'\(text)' is not a whole number") }
        if let range, !range.contains(value) {
            throw error(key: key, "\(value) is out of range (\(range.lowerBound)…\(range.upperBound))")
        }
        return value
    }

    public func double(_ key: String, default defaultValue: Double, range: ClosedRange<Double>? = nil) throws -> Double
    {
        guard let text = try string(key), !text.isEmpty else { return defaultValue }
        guard let value = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), value.isFinite else {
            throw error(key: key, "'\(text)' is not a number")
        }
        if let range, !range.contains(value) {
            throw error(key: key, "\(text) is out of range (\(range.lowerBound)…\(range.upperBound))")
        }
        return value
    }

    /// Seconds, from a duration such as `250ms`, `2s`, `10m`.
    public func duration(_ key: String, default defaultValue: Double, minimum: Double = 0) throws -> Double {
        guard let text = try string(key), !text.isEmpty else { return defaultValue }
        let seconds: Double
        do {
            seconds = try Durations.seconds(text)
        } catch {
            throw self.error(key: key, error.description)
        }
        if seconds < minimum {
            throw error(key: key, "\(text) is too short (at least \(Durations.format(seconds: minimum)))")
        }
        return seconds
    }

    /// One of a fixed set of words.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) throws -> T
    where T.RawValue == String {
        guard let text = try string(key), !text.isEmpty else { return defaultValue }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key: key, "'\(text)' is not one of: \(allowed)")
        }
        return value
    }

    /// An http(s) URL, or nil when absent or empty.
    public func url(_ key: String) throws -> URL? {
        guard let text = try nonEmptyString(key) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw error(key: key, "'\(Redact.serviceURL(text))' is not an http(s) URL with a host")
        }
        return url
    }

    // MARK: - Collections

    /// A list of strings (a YAML sequence, or one comma-separated value after substitution).
    public func stringList(_ key: String) throws -> [String]? {
        consumed.insert(key)
        guard let value = node(key) else { return nil }
        switch value {
        case .sequence(let sequence):
            return try sequence.map { item in
                guard case .scalar(let scalar) = item else {
                    throw error(at: item, "\(qualified(key)): list items must be single values")
                }
                do { return try substitution.substitute(scalar.string) } catch let failure
                    as EnvironmentSubstitution.Failure
                {
                    throw self.error(at: item, "\(qualified(key)): \(failure.description)")
                }
            }
        case .scalar:
            let text = try string(key) ?? ""
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        default:
            throw error(key: key, "expected a list, found \(kind(of: value))")
        }
    }

    /// A nested mapping, or nil when absent.
    public func map(_ key: String) throws -> ConfigMap? {
        consumed.insert(key)
        guard let value = node(key) else { return nil }
        if case .scalar(let scalar) = value, scalar.style == .plain, ["~", "null", ""].contains(scalar.string) {
            return ConfigMap(
                file: file, path: qualified(key), mapping: Node.Mapping([]), mark: value.mark,
                substitution: substitution)
        }
        guard case .mapping(let mapping) = value else {
            throw error(key: key, "expected a mapping, found \(kind(of: value))")
        }
        return ConfigMap(
            file: file, path: qualified(key), mapping: mapping, mark: value.mark, substitution: substitution)
    }

    /// An empty mapping when absent, so optional sections read like present ones.
    public func section(_ key: String) throws -> ConfigMap {
        try map(key)
            ?? ConfigMap(
                file: file, path: qualified(key), mapping: Node.Mapping([]), mark: mark, substitution: substitution)
    }

    /// A list of mappings.
    public func maps(_ key: String) throws -> [ConfigMap]? {
        consumed.insert(key)
        guard let value = node(key) else { return nil }
        guard case .sequence(let sequence) = value else {
            throw error(key: key, "expected a list, found \(kind(of: value))")
        }
        return try sequence.enumerated().map { index, item in
            guard case .mapping(let mapping) = item else {
                throw error(at: item, "\(qualified(key))[\(index)]: expected a mapping, found \(kind(of: item))")
            }
            return ConfigMap(
                file: file, path: "\(qualified(key))[\(index)]", mapping: mapping, mark: item.mark,
                substitution: substitution)
        }
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
