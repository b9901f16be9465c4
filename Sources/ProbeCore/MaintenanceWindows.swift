import Foundation

/// Planned work: while a window is open, the checks it covers still run and show, they just do not page.
///
/// Recurring windows are weekly day/time ranges in an IANA time zone, evaluated on the wall clock of that zone (so a
/// 01:00–04:00 window stays 01:00–04:00 local across a DST change, and is 2 h or 4 h long in real time that night).
/// A range whose end is not after its start runs past midnight into the next day. A wall-clock time skipped by a
/// spring-forward change never occurs, so a range that lies entirely inside the skipped hour is not open that night.
/// Ad hoc windows have a start, an end and a reason.
///
/// ```yaml
/// maintenance:
///   - name: nightly-backup
///     reason: MongoDB dump
///     timezone: Europe/Berlin
///     weekly:
///       - days: [sun]
///         from: "01:00"
///         to: "04:00"
///     services: [mongo]           # also layers, checks, severities; nothing = everything
///   - name: upgrade-2.3
///     reason: ClearML 2.3 upgrade
///     start: 2026-09-01T18:00:00+02:00
///     end: 2026-09-01T20:00:00+02:00
/// ```
public struct MaintenanceWindow: Sendable, Equatable {
    public var name: String
    public var reason: String
    public var selector: AlertSelector
    public var schedule: Schedule

    public enum Schedule: Sendable, Equatable {
        /// The zone is read from the system's zone files (`ZoneRules`), not from ICU.
        case weekly(zone: ZoneRules, ranges: [WeeklyRange])
        case once(start: Date, end: Date)
    }

    /// Days (Calendar weekdays, 1 = Sunday … 7 = Saturday) and a time-of-day range in seconds since local midnight.
    public struct WeeklyRange: Sendable, Equatable {
        public var days: Set<Int>
        public var from: Int
        /// When `to <= from` the range ends the next day.
        public var to: Int

        public init(days: Set<Int>, from: Int, to: Int) {
            self.days = days
            self.from = from
            self.to = to
        }
    }

    public init(name: String, reason: String, selector: AlertSelector = .any, schedule: Schedule) {
        self.name = name
        self.reason = reason
        self.selector = selector
        self.schedule = schedule
    }

    /// Whether the window is open at an instant (whatever it covers).
    public func isOpen(at date: Date) -> Bool {
        switch schedule {
        case .once(let start, let end):
            return start <= date && date < end
        case .weekly(let zone, let ranges):
            let local = zone.civil(at: date)
            let weekday = local.weekday
            let second = local.hour * 3600 + local.minute * 60 + local.second
            let yesterday = weekday == 1 ? 7 : weekday - 1
            return ranges.contains { range in
                if range.from < range.to {
                    return range.days.contains(weekday) && range.from <= second && second < range.to
                }
                return (range.days.contains(weekday) && second >= range.from)
                    || (range.days.contains(yesterday) && second < range.to)
            }
        }
    }

    /// Whether a window of this plan covers a subject now.
    public func covers(_ subject: AlertSubject, at date: Date) -> Bool {
        isOpen(at: date) && selector.matches(subject)
    }

    // MARK: - Parsing

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]
    static let fullDayNames = [
        "sunday": 1, "monday": 2, "tuesday": 3, "wednesday": 4, "thursday": 5, "friday": 6, "saturday": 7,
    ]

    /// Parses one list item of `maintenance:`.
    public static func parse(_ map: ConfigMap, index: Int) throws -> MaintenanceWindow {
        let name = try map.nonEmptyString("name") ?? "maintenance \(index + 1)"
        guard let reason = try map.nonEmptyString("reason") else {
            throw map.error(at: nil, "\(map.path): 'reason' is required (say why, for the people who see it)")
        }
        let selector = try AlertSelector.parse(map)
        let zoneName = try map.nonEmptyString("timezone")
        var zone: ZoneRules?
        if let zoneName {
            guard let found = ZoneRules.named(zoneName) else {
                throw map.error(key: "timezone", "'\(zoneName)' is not an IANA time zone (e.g. Europe/Berlin, UTC)")
            }
            zone = found
        }
        let weekly = try map.maps("weekly")
        let startText = try map.nonEmptyString("start")
        let endText = try map.nonEmptyString("end")
        let schedule: Schedule
        if let weekly {
            if startText != nil || endText != nil {
                throw map.error(key: "start", "a window is either weekly or has a start and an end, not both")
            }
            guard let zone else {
                throw map.error(key: "weekly", "a weekly window needs a 'timezone' (e.g. Europe/Berlin, UTC)")
            }
            guard !weekly.isEmpty else { throw map.error(key: "weekly", "give at least one range") }
            schedule = .weekly(zone: zone, ranges: try weekly.map(parseRange))
        } else {
            guard let startText, let endText else {
                throw map.error(at: nil, "\(map.path): give 'weekly' ranges, or a 'start' and an 'end'")
            }
            let start = try parseInstant(startText, zone: zone, map: map, key: "start")
            let end = try parseInstant(endText, zone: zone, map: map, key: "end")
            guard end > start else { throw map.error(key: "end", "the end must be after the start") }
            schedule = .once(start: start, end: end)
        }
        try map.finish()
        return MaintenanceWindow(name: name, reason: reason, selector: selector, schedule: schedule)
    }

    static func parseRange(_ map: ConfigMap) throws -> WeeklyRange {
        guard let dayWords = try map.stringList("days"), !dayWords.isEmpty else {
            throw map.error(at: nil, "\(map.path): 'days' is required (mon … sun, weekdays, weekend or daily)")
        }
        var days: Set<Int> = []
        for word in dayWords {
            switch word.lowercased() {
            case "daily", "everyday": days.formUnion(1...7)
            case "weekdays": days.formUnion(2...6)
            case "weekend": days.formUnion([1, 7])
            default:
                let lower = word.lowercased()
                guard let day = dayNames[lower] ?? fullDayNames[lower] else {
                    throw map.error(
                        key: "days", "'\(word)' is not a day (mon tue wed thu fri sat sun, weekdays, weekend, daily)")
                }
                days.insert(day)
            }
        }
        let from = try clock(map, "from")
        let to = try clock(map, "to")
        guard from != to || from == 0 else { throw map.error(key: "to", "the range is empty (from == to)") }
        try map.finish()
        // 00:00–00:00 (or –24:00) is the whole day.
        return WeeklyRange(days: days, from: from, to: to == from ? 86400 : to)
    }

    /// `HH:MM` (or `24:00` for the end of the day) → seconds since midnight.
    static func clock(_ map: ConfigMap, _ key: String) throws -> Int {
        guard let text = try map.nonEmptyString(key) else {
            throw map.error(at: nil, "\(map.path): '\(key)' is required (HH:MM)")
        }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), parts[1].count == 2,
            (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0
        else { throw map.error(key: key, "'\(text)' is not a time of day (HH:MM, 00:00 … 24:00)") }
        return hour * 3600 + minute * 60
    }

    /// RFC 3339 with an offset (`2026-09-01T18:00:00+02:00`, `…Z`), or local `YYYY-MM-DD HH:MM` in `timezone`.
    static func parseInstant(_ text: String, zone: ZoneRules?, map: ConfigMap, key: String) throws -> Date {
        if let date = UTCTimestamp.parseRFC3339(text) { return date }
        if let zone, let local = UTCTimestamp.parseLocal(text) { return zone.date(fromLocal: local) }
        throw map.error(
            key: key, "'\(text)' is not a time (use 2026-09-01T18:00:00+02:00, or YYYY-MM-DD HH:MM with a 'timezone')")
    }
}

/// Every maintenance window of `alerts/alerts.yaml`.
public struct MaintenancePlan: Sendable, Equatable {
    public var windows: [MaintenanceWindow]

    public init(windows: [MaintenanceWindow] = []) { self.windows = windows }

    /// The first window covering the subject now, or nil.
    public func window(covering subject: AlertSubject, at date: Date) -> MaintenanceWindow? {
        windows.first { $0.covers(subject, at: date) }
    }

    /// Whether the subject is in maintenance now: a window covers its service (or layer, severity), or every one of
    /// its failing checks is covered by some window.
    public func isInMaintenance(_ subject: AlertSubject, at date: Date) -> Bool {
        let open = windows.filter { $0.isOpen(at: date) }
        return Suppression.covers(subject, selectors: open.map(\.selector))
    }

    public static func parse(_ map: ConfigMap, key: String = "maintenance") throws -> MaintenancePlan {
        let items = try map.maps(key) ?? []
        var names: Set<String> = []
        var windows: [MaintenanceWindow] = []
        for (index, item) in items.enumerated() {
            let window = try MaintenanceWindow.parse(item, index: index)
            if !names.insert(window.name).inserted {
                throw item.error(key: "name", "duplicate window name '\(window.name)'")
            }
            windows.append(window)
        }
        return MaintenancePlan(windows: windows)
    }
}
