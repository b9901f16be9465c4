/// Cutting text to a platform's limit, the one place for it: by characters, by Unicode scalars (runes, as
/// Alertmanager does) or by UTF-8 bytes, never inside a character, with an ellipsis that counts towards the limit.
public enum Truncation {
    public static let ellipsis = "…"

    /// At most `limit` Unicode scalars.
    public static func runes(_ text: String, _ limit: Int) -> String {
        cut(text, limit, size: { $0.unicodeScalars.count })
    }

    /// At most `limit` UTF-8 bytes.
    public static func bytes(_ text: String, _ limit: Int) -> String {
        cut(text, limit, size: { $0.utf8.count })
    }

    /// At most `limit` characters (grapheme clusters), ending in `…` when cut.
    public static func characters(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + ellipsis
    }

    /// At most `limit` characters of text with HTML-style entities (Slack mrkdwn), never cutting inside an entity
    /// (`&am…`).
    public static func escaped(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        var kept = String(text.prefix(limit - 1))
        if let amp = kept.lastIndex(of: "&"), !kept[amp...].contains(";") { kept = String(kept[..<amp]) }
        return kept + ellipsis
    }

    /// Joins lines until the next would pass `limit` characters, then says how many were left out.
    public static func joinedLines(_ items: [String], limit: Int, more: (Int) -> String = { "… and \($0) more" })
        -> String
    {
        var out: [String] = []
        var used = 0
        for (index, item) in items.enumerated() {
            let left = items.count - index
            let tail = left > 1 ? more(left - 1).count + 1 : 0
            let cost = item.count + (out.isEmpty ? 0 : 1)
            if used + cost + tail > limit {
                let note = more(left)
                if used + note.count + 1 <= limit || out.isEmpty {
                    out.append(characters(note, limit))
                }
                return out.joined(separator: "\n")
            }
            out.append(item)
            used += cost
        }
        return out.joined(separator: "\n")
    }

    public static func isTruncated(_ text: String) -> Bool { text.hasSuffix(ellipsis) }

    static func cut(_ text: String, _ limit: Int, size: (Substring) -> Int) -> String {
        if size(Substring(text)) <= limit { return text }
        let budget = limit - size(Substring(ellipsis))
        guard budget > 0 else { return String(ellipsis.prefix(max(0, limit))) }
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let character = text[index...index]
            let next = used + size(character)
            if next > budget { break }
            used = next
            end = text.index(after: index)
        }
        return String(text[..<end]) + ellipsis
    }

    /// The note that stands for the lines left out: `… 3 more lines`.
    public static func moreLines(_ count: Int) -> String { "… \(count) more line\(count == 1 ? "" : "s")" }

    /// Keeps whole lines while they fit `limit` (measured by `size` of the joined text), then says how many were left
    /// out. The first line is cut rather than dropped.
    public static func lines(
        _ lines: [String], limit: Int, separator: String = "\n",
        size: (String) -> Int = { $0.unicodeScalars.count },
        omitted: (Int) -> String = moreLines
    ) -> [String] {
        if size(lines.joined(separator: separator)) <= limit { return lines }
        var kept: [String] = []
        for (index, line) in lines.enumerated() {
            let rest = lines.count - index - 1
            let candidate = kept + [line] + (rest > 0 ? [omitted(rest)] : [])
            if size(candidate.joined(separator: separator)) > limit { break }
            kept.append(line)
        }
        let left = lines.count - kept.count
        if left == 0 { return kept }
        let note = omitted(left)
        if kept.isEmpty {
            // Not even one line fits with the note: cut the first line itself.
            let room = max(1, limit - size(note) - size(separator))
            return [runes(lines[0], room), note].filter { size([$0].joined()) > 0 }
        }
        return kept + [note]
    }
}
