/// Elasticsearch's disk watermarks and when they fire (docs/data-stores.md, "Elasticsearch").
///
/// A watermark is a percentage of disk *used* (`95%`), a ratio (`0.95`), or an absolute size of *free* space
/// (`500mb`). ES 8 caps a percentage or ratio watermark by its `max_headroom` when the watermark itself is left at
/// its default, so flood stage fires below min(5 % of the disk, 100 GB) free. Absolute watermarks have no headroom.
public struct DiskWatermark: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable {
        case low, high
        case floodStage = "flood_stage"

        var defaultValue: String {
            switch self {
            case .low: "85%"
            case .high: "90%"
            case .floodStage: "95%"
            }
        }

        var defaultHeadroom: String {
            switch self {
            case .low: "200GB"
            case .high: "150GB"
            case .floodStage: "100GB"
            }
        }

        public var settingKey: String { "cluster.routing.allocation.disk.watermark.\(rawValue)" }
    }

    public enum Form: Sendable, Equatable {
        /// Fraction of the disk that may be used (0.95 for `95%` or `0.95`).
        case usedRatio(Double)
        /// Bytes that must stay free.
        case freeBytes(Double)
    }

    public var level: Level
    public var form: Form
    /// Free-space cap for a ratio watermark, in bytes; nil when none applies.
    public var maxHeadroom: Double?
    /// As written in the settings (`95%`, `500mb`).
    public var text: String

    public init(level: Level, form: Form, maxHeadroom: Double?, text: String) {
        self.level = level
        self.form = form
        self.maxHeadroom = maxHeadroom
        self.text = text
    }

    /// Parses a watermark value; nil when it is none of the three forms.
    public static func form(_ text: String) -> Form? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.hasSuffix("%"), let percent = Double(value.dropLast()), (0...100).contains(percent) {
            return .usedRatio(percent / 100)
        }
        if let ratio = Double(value), (0...1).contains(ratio) { return .usedRatio(ratio) }
        if let bytes = ByteSize.parse(value) { return .freeBytes(bytes) }
        return nil
    }

    /// The effective watermark from flat cluster settings: the first of persistent, transient, defaults (the
    /// `include_defaults` view, which also holds node settings from elasticsearch.yml or the environment).
    public static func effective(
        _ level: Level, persistent: [String: String], transient: [String: String],
        defaults: [String: String]
    ) -> DiskWatermark? {
        let key = level.settingKey
        let headroomKey = key + ".max_headroom"
        let explicit = persistent[key] ?? transient[key]
        let text = explicit ?? defaults[key] ?? level.defaultValue
        guard let form = form(text) else { return nil }
        var headroomText: String?
        if let set = persistent[headroomKey] ?? transient[headroomKey] {
            headroomText = set
        } else if explicit == nil {
            // A watermark set in the cluster settings turns the default headroom off (ES 8); node-level settings
            // are already reflected in the defaults view.
            headroomText = defaults[headroomKey] ?? level.defaultHeadroom
        }
        let headroom = headroomText.flatMap {
            $0.trimmingCharacters(in: .whitespaces) == "-1" ? nil : ByteSize.parse($0)
        }
        return DiskWatermark(level: level, form: form, maxHeadroom: headroom, text: text)
    }

    /// Free bytes below which this watermark fires on a disk of `total` bytes.
    public func freeThreshold(total: Double) -> Double {
        switch form {
        case .freeBytes(let bytes): return bytes
        case .usedRatio(let ratio):
            let threshold = total * (1 - ratio)
            if let maxHeadroom { return Swift.min(threshold, maxHeadroom) }
            return threshold
        }
    }

    /// `95% used (capped at 100 GB free)` / `500mb free`.
    public var words: String {
        switch form {
        case .freeBytes: return "\(text) free"
        case .usedRatio:
            if let maxHeadroom { return "\(text) used, capped at \(ByteSize.format(maxHeadroom)) free" }
            return "\(text) used"
        }
    }

    /// Flattens a settings object (nested or `flat_settings=true`) into dotted keys.
    public static func flatten(_ value: JSONValue?, prefix: String = "") -> [String: String] {
        guard let object = value?.object else { return [:] }
        var out: [String: String] = [:]
        for (key, child) in object {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if child.object != nil {
                out.merge(flatten(child, prefix: name)) { first, _ in first }
            } else if let text = child.string {
                out[name] = text
            }
        }
        return out
    }
}
