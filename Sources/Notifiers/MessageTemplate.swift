import Foundation
import Mustache
import ProbeCore

/// The text of a message, as a template made it: the first non-empty line is the title, the rest are body lines.
/// Payload builders put these into the platform's JSON structure (which stays in Swift).
public struct RenderedText: Sendable, Equatable {
    public var title: String
    public var lines: [String]

    public init(title: String, lines: [String]) {
        self.title = title
        self.lines = lines
    }

    public var body: String { lines.joined(separator: "\n") }

    /// Splits rendered text: trailing spaces dropped, blank runs collapsed, no blank line at either end.
    public init(rendered: String) {
        var lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).replacingOccurrences(of: "\r", with: "").trimmingTrailingWhitespace()
        }
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
        let title = lines.isEmpty ? "" : lines.removeFirst()
        var body: [String] = []
        for line in lines {
            if line.isEmpty, body.last?.isEmpty ?? true { continue }
            body.append(line)
        }
        while body.last?.isEmpty == true { body.removeLast() }
        self.init(title: title, lines: body)
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// A Mustache template for one destination kind, with that platform's escaping applied to `{{values}}`.
///
/// The view (what a template can use) is documented in `alerts/templates/README.md`.
public struct MessageTemplate: Sendable {
    public let kind: DestinationKind
    /// Where the text came from (`alerts/templates/teams.mustache`, or `<built-in …>`), for errors.
    public let source: String
    let template: MustacheTemplate

    /// The pragma that selects the escaping; kept on the first line so positions in the template stay right
    /// (columns of line 1 are corrected in errors).
    static func pragma(_ escaping: TextEscaping) -> String { "{{%CONTENT_TYPE:\(escaping.contentTypeName)}}" }

    public init(kind: DestinationKind, text: String, source: String) throws(ConfigError) {
        _ = TextEscaping.registered
        self.kind = kind
        self.source = source
        let pragma = Self.pragma(TextEscaping.for(kind))
        do {
            template = try MustacheTemplate(string: pragma + text)
        } catch let error as MustacheTemplate.ParserError {
            let line = error.context.lineNumber
            let column = line == 1 ? max(1, error.context.columnNumber - pragma.count) : error.context.columnNumber
            throw ConfigError(
                file: source, line: line, column: column, message: "template error: \(Self.describe(error.error))")
        } catch {
            throw ConfigError(file: source, line: 1, column: 1, message: "template error: \(error)")
        }
    }

    static func describe(_ error: Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "a section is closed with another name than it was opened with"
        case .unfinishedName: return "a tag is not closed (missing '}}')"
        case .expectedSectionEnd: return "a section is never closed (missing '{{/name}}')"
        case .invalidSetDelimiter: return "bad set-delimiter tag"
        case .transformAppliedToInheritanceSection: return "a transform cannot apply to an inheritance section"
        case .illegalTokenInsideInheritSection, .textInsideInheritSection:
            return "only blocks may appear inside a partial's inheritance section"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable:
            return "unsupported pragma (the escaping is chosen by the destination kind)"
        }
    }

    /// The built-in template of a kind.
    public static func builtIn(_ kind: DestinationKind) -> MessageTemplate {
        let text = DefaultTemplates.text(for: kind)
        do {
            return try MessageTemplate(kind: kind, text: text, source: "<built-in \(DefaultTemplates.path(for: kind))>")
        } catch {
            preconditionFailure("built-in template \(kind.rawValue) does not parse: \(error)")
        }
    }

    public func render(_ message: AlertMessage) -> RenderedText {
        RenderedText(rendered: template.render(Self.view(of: message)))
    }

    /// The values a template can use. Optional values are absent (not empty) when unset, so `{{#hint}}…{{/hint}}`
    /// works as a condition.
    public static func view(of message: AlertMessage) -> [String: Any] {
        func nonEmpty(_ text: String?) -> String? {
            guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
            return text
        }
        func lines(_ lines: [AlertMessage.Line]) -> [[String: Any]] {
            lines.map {
                ["key": $0.key, "status": $0.status.label, "status_word": $0.status.rawValue, "summary": $0.summary]
            }
        }
        let end = message.resolvedAt ?? message.createdAt
        var view: [String: Any] = [
            "event": MessageText.label(message.event),
            "firing": message.event == .firing,
            "resolved": message.event == .resolved,
            "reminder": message.event == .reminder,
            "flapping": message.event == .flapping,
            "test": message.event == .test,
            "open": message.event != .resolved,
            "severity": message.severity.label,
            "severity_word": message.severity.rawValue,
            "emoji": Self.emoji(message),
            "title": message.title,
            "summary": message.summary,
            "service": message.service.displayName,
            "service_id": message.service.rawValue,
            "layer": message.service.layer.rawValue,
            "instance": message.instance,
            "incident": message.incidentID,
            "started": MessageText.time(message.startedAt),
            "started_at": MessageText.timestamp(message.startedAt),
            "duration": MessageText.duration(end.timeIntervalSince(message.startedAt)),
            "unconfirmed": message.unconfirmed,
            "causes": lines(message.causes),
            "has_causes": !message.causes.isEmpty,
            "symptoms": lines(message.symptoms),
            "has_symptoms": !message.symptoms.isEmpty,
            "symptom_count": message.symptoms.count,
        ]
        if let hint = nonEmpty(message.hint) { view["hint"] = hint }
        if let evidence = nonEmpty(message.evidence) { view["evidence"] = evidence }
        if let url = nonEmpty(message.statusURL) { view["status_url"] = url }
        if let resolved = message.resolvedAt {
            view["resolved_at"] = MessageText.time(resolved)
        }
        return view
    }

    public static func emoji(_ message: AlertMessage) -> String {
        switch message.event {
        case .resolved: return "✅"
        case .flapping: return "🔁"
        case .test: return "🧪"
        case .firing, .reminder:
            switch message.severity {
            case .critical: return "🔴"
            case .warning: return "🟠"
            case .unknown: return "⚪"
            case .ok: return "✅"
            }
        }
    }
}

/// Templates chosen per destination kind: the built-in ones, unless `templates:` in alerts.yaml overrides a kind.
public struct TemplateSet: Sendable {
    var overrides: [DestinationKind: MessageTemplate]

    public init(overrides: [DestinationKind: MessageTemplate] = [:]) { self.overrides = overrides }

    public static let builtIn = TemplateSet()

    public func template(for kind: DestinationKind) -> MessageTemplate {
        overrides[kind] ?? MessageTemplate.builtIn(kind)
    }

    public var overriddenKinds: [DestinationKind] { overrides.keys.sorted { $0.rawValue < $1.rawValue } }

    /// Parses `templates:` (`<kind>: <file>`, the file relative to the alerts file's folder) and compiles each file;
    /// a template error names the template file, line and column.
    ///
    /// ```yaml
    /// templates:
    ///   telegram: templates/telegram.mustache
    /// ```
    public static func parse(
        _ map: ConfigMap, baseDirectory: String,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws -> TemplateSet {
        var overrides: [DestinationKind: MessageTemplate] = [:]
        for key in map.keys {
            guard let kind = DestinationKind(rawValue: key) else {
                throw map.error(
                    atKey: key,
                    "unknown destination kind '\(key)' in \(map.path) (kinds: \(DestinationKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            guard let file = try map.nonEmptyString(key) else { continue }
            let path = file.hasPrefix("/") ? file : (baseDirectory.isEmpty ? file : baseDirectory + "/" + file)
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw map.error(key: key, "cannot read template file '\(path)'")
            }
            overrides[kind] = try MessageTemplate(kind: kind, text: text, source: path)
        }
        try map.finish()
        return TemplateSet(overrides: overrides)
    }
}
