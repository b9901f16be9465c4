import Mustache

/// How text from a check (summaries, evidence, hints) is made safe inside a platform's markup. Applied by the
/// template engine to every `{{value}}` (triple braces `{{{value}}}` insert raw text, for template authors who know
/// the value is safe). JSON string escaping is not this: the payload builder always does it, after rendering.
public enum TextEscaping: String, Sendable, CaseIterable {
    /// No markup (PagerDuty, Alertmanager, Teams TextBlocks without Markdown risk).
    case plain
    /// Slack mrkdwn: `&`, `<`, `>` as entities (so `<!channel>` cannot be written by a check's output).
    case slackMrkdwn
    /// HTML subsets (Telegram HTML parse mode, Google Chat card text): `&`, `<`, `>` (and `"` for attributes).
    case html
    /// Markdown (Discord, Mattermost): backslash before Markdown punctuation, and `@` mentions broken with a
    /// zero-width joiner so `@channel`/`@here`/`@all` cannot notify (Mattermost has no allowed_mentions).
    case markdown

    public func escape(_ text: String) -> String {
        switch self {
        case .plain:
            return text
        case .slackMrkdwn:
            return Self.replacing(text) { Self.entity($0, quotes: false) }
        case .html:
            return Self.replacing(text) { Self.entity($0, quotes: true) }
        case .markdown:
            return Self.replacing(text) { character in
                switch character {
                case "\\", "*", "_", "~", "`", "|", "[", "]", "<", ">", "#": "\\\(character)"
                case "@": "@\u{2060}"
                default: nil
                }
            }
        }
    }

    /// `text` with each character for which `replacement` gives a string replaced by it.
    private static func replacing(_ text: String, _ replacement: (Character) -> String?) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            if let replaced = replacement(character) { out += replaced } else { out.append(character) }
        }
        return out
    }

    /// The entity for `&`, `<`, `>` (and `"` with `quotes`); nil for any other character.
    private static func entity(_ character: Character, quotes: Bool) -> String? {
        switch character {
        case "&": "&amp;"
        case "<": "&lt;"
        case ">": "&gt;"
        case "\"" where quotes: "&quot;"
        default: nil
        }
    }

    /// Rendered text back to plain text, for the fields a platform shows without markup (a card header, an embed
    /// title, a PagerDuty summary): tags removed and entities decoded (HTML), backslash escapes removed (Markdown).
    public func plain(_ rendered: String) -> String {
        switch self {
        case .plain:
            return rendered
        case .slackMrkdwn:
            return rendered.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
        case .html:
            var out = ""
            var inTag = false
            for character in rendered {
                if character == "<" {
                    inTag = true
                    continue
                }
                if character == ">", inTag {
                    inTag = false
                    continue
                }
                if !inTag { out.append(character) }
            }
            return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&")
        case .markdown:
            var out = ""
            var escaped = false
            for character in rendered {
                if character == "\\", !escaped {
                    escaped = true
                    continue
                }
                escaped = false
                out.append(character)
            }
            return out
        }
    }

    /// The escaping each destination kind's templates get (its `Platform.escaping`).
    public static func `for`(_ kind: DestinationKind) -> TextEscaping { kind.platform.escaping }

    /// The name under which the escaping is registered with the template engine (`{{%CONTENT_TYPE:…}}`).
    var contentTypeName: String { "clearml-probe-\(rawValue)" }

    /// Registers every escaping as a Mustache content type, once per process.
    static let registered: Bool = {
        for escaping in TextEscaping.allCases {
            MustacheContentTypes.register(EscapingContentType(escaping: escaping), named: escaping.contentTypeName)
        }
        return true
    }()
}

struct EscapingContentType: MustacheContentType {
    let escaping: TextEscaping
    func escapeText(_ text: String) -> String { escaping.escape(text) }
}
