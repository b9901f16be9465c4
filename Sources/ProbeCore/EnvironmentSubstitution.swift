import Foundation

/// `${VAR}`, `${VAR:-default}` (nested), `${VAR:?message}` and `$$`, applied to parsed scalar values only, so an
/// environment value can never inject YAML and positions stay right.
///
/// `${NAME}` that is unset or empty falls back to the content of the file named by `NAME_FILE` (Docker secrets).
public struct EnvironmentSubstitution: Sendable {
    public var environment: [String: String]
    /// Reads a `NAME_FILE` file; injectable for tests.
    public var readFile: @Sendable (String) throws -> String

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        readFile: @escaping @Sendable (String) throws -> String = { path in
            try String(contentsOfFile: path, encoding: .utf8)
        }
    ) {
        self.environment = environment
        self.readFile = readFile
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The value of a variable, with the `_FILE` fallback; trailing newlines of a file are dropped.
    public func value(of name: String) throws(Failure) -> String? {
        if let value = environment[name], !value.isEmpty { return value }
        if let path = environment["\(name)_FILE"], !path.isEmpty {
            do {
                var content = try readFile(path)
                while content.hasSuffix("\n") || content.hasSuffix("\r") { content.removeLast() }
                return content
            } catch {
                throw Failure(description: "\(name)_FILE names '\(path)', which cannot be read")
            }
        }
        return environment[name]
    }

    public func substitute(_ text: String) throws(Failure) -> String {
        var scalars = Array(text.unicodeScalars)
        var index = 0
        let result = try expand(&scalars, &index, terminator: nil)
        return result
    }

    private func expand(_ s: inout [Unicode.Scalar], _ i: inout Int, terminator: Unicode.Scalar?) throws(Failure)
        -> String
    {
        var out = String.UnicodeScalarView()
        while i < s.count {
            let c = s[i]
            if let terminator, c == terminator { return String(out) }
            if c == "$", i + 1 < s.count, s[i + 1] == "$" {
                out.append("$")
                i += 2
                continue
            }
            if c == "$", i + 1 < s.count, s[i + 1] == "{" {
                i += 2
                var name = String.UnicodeScalarView()
                while i < s.count, s[i] != "}", s[i] != ":" {
                    name.append(s[i])
                    i += 1
                }
                let variable = String(name)
                guard !variable.isEmpty,
                    variable.unicodeScalars.allSatisfy({
                        $0 == "_" || ($0.isASCII && (CharacterSet.alphanumerics.contains($0)))
                    })
                else {
                    throw Failure(description: "'${\(variable)' is not a valid variable reference")
                }
                guard i < s.count else { throw Failure(description: "'${\(variable)' is missing its closing '}'") }
                if s[i] == "}" {
                    i += 1
                    out.append(contentsOf: (try value(of: variable) ?? "").unicodeScalars)
                    continue
                }
                // s[i] == ":"
                guard i + 1 < s.count, s[i + 1] == "-" || s[i + 1] == "?" else {
                    throw Failure(description: "'${\(variable):' must be followed by '-' (default) or '?' (required)")
                }
                let required = s[i + 1] == "?"
                i += 2
                let alternative = try expand(&s, &i, terminator: "}")
                guard i < s.count, s[i] == "}" else {
                    throw Failure(description: "'${\(variable)' is missing its closing '}'")
                }
                i += 1
                let current = try value(of: variable) ?? ""
                if !current.isEmpty {
                    out.append(contentsOf: current.unicodeScalars)
                } else if required {
                    throw Failure(
                        description: alternative.isEmpty
                            ? "\(variable) must be set" : "\(variable) must be set: \(alternative)")
                } else {
                    out.append(contentsOf: alternative.unicodeScalars)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }
}
