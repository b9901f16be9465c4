import Foundation

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`): the footer of a TZif file, which says the offsets for every
/// instant after the file's last transition. Files built "slim" (the tz project's default since 2020) end their
/// transitions early and rely on it.
///
/// Offsets in the text are hours *west* of UTC (`CET-1` is one hour east); a `dst` part without an offset is one
/// hour ahead of standard time; a change time defaults to 02:00 local and may be negative or past 24 h (RFC 8536 §3.3.1).
public struct POSIXZoneRule: Sendable, Equatable {
    /// Seconds east of UTC outside daylight saving time.
    public var standardOffset: Int
    /// Daylight saving time, when the zone has it.
    public var daylight: Daylight?

    public struct Daylight: Sendable, Equatable {
        public var offset: Int
        public var start: Change
        public var end: Change
    }

    /// A day of the year and the local time of day (seconds) a change happens at.
    public struct Change: Sendable, Equatable {
        public enum Day: Sendable, Equatable {
            /// `Jn`: day 1…365, 29 February never counted.
            case julianNoLeap(Int)
            /// `n`: day 0…365, 29 February counted.
            case zeroBased(Int)
            /// `Mm.w.d`: the w-th (5 = last) weekday d (0 = Sunday) of month m.
            case monthWeekDay(month: Int, week: Int, weekday: Int)
        }

        public var day: Day
        public var time: Int
    }

    /// The offsets the rule can give.
    public var offsets: [Int] { [standardOffset] + (daylight.map { [$0.offset] } ?? []) }

    /// Parses the rule; nil when the text is not one.
    public init?(_ text: String) {
        var scanner = RuleScanner(bytes: Array(text.utf8))
        guard scanner.name(), let standardWest = scanner.offset() else { return nil }
        standardOffset = -standardWest
        if scanner.atEnd {
            daylight = nil
            return
        }
        guard scanner.name() else { return nil }
        var dstOffset = standardOffset + 3600
        if let west = scanner.offset() { dstOffset = -west }
        // Without a rule, POSIX leaves the dates to the implementation; TZif footers always give one.
        guard scanner.eat(UInt8(ascii: ",")), let start = scanner.change(), scanner.eat(UInt8(ascii: ",")),
            let end = scanner.change(), scanner.atEnd
        else { return nil }
        daylight = Daylight(offset: dstOffset, start: start, end: end)
    }

    /// Seconds east of UTC at an instant (seconds since 1970).
    public func offset(atSecond second: Int64) -> Int {
        guard let daylight else { return standardOffset }
        let year = CivilTime(secondsSince1970: second + Int64(standardOffset)).year
        // A change time is local time of the offset in effect before it.
        let start = Self.localSecond(daylight.start, year: year) - Int64(standardOffset)
        let end = Self.localSecond(daylight.end, year: year) - Int64(daylight.offset)
        let inDaylight = start < end ? (start <= second && second < end) : !(end <= second && second < start)
        return inDaylight ? daylight.offset : standardOffset
    }

    /// Seconds since 1970 on the local clock at which a change happens in a year.
    static func localSecond(_ change: Change, year: Int) -> Int64 {
        let yearStart = CivilTime.days(year: year, month: 1, day: 1)
        let leap = CivilTime.daysInMonth(year: year, month: 2) == 29
        let dayOfYear: Int64
        switch change.day {
        case .julianNoLeap(let n):
            dayOfYear = Int64(n - 1 + (leap && n >= 60 ? 1 : 0))
        case .zeroBased(let n):
            dayOfYear = Int64(n)
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilTime(year: year, month: month, day: 1).weekday - 1  // 0 = Sunday
            var day = 1 + (weekday - first + 7) % 7 + (week - 1) * 7
            while day > CivilTime.daysInMonth(year: year, month: month) { day -= 7 }
            dayOfYear = CivilTime.days(year: year, month: month, day: day) - yearStart
        }
        return (yearStart + dayOfYear) * 86400 + Int64(change.time)
    }
}

/// Reads the pieces of a POSIX TZ string.
private struct RuleScanner {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func eat(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// `CET`, or `<+0330>` quoted.
    mutating func name() -> Bool {
        if eat(UInt8(ascii: "<")) {
            guard let close = bytes[index...].firstIndex(of: UInt8(ascii: ">")), close > index else { return false }
            index = close + 1
            return true
        }
        let start = index
        while index < bytes.count, (bytes[index] | 0x20) >= UInt8(ascii: "a"),
            (bytes[index] | 0x20) <= UInt8(ascii: "z")
        { index += 1 }
        return index - start >= 3
    }

    mutating func number(maxDigits: Int) -> Int? {
        let start = index
        var value = 0
        while index < bytes.count, index - start < maxDigits, bytes[index] >= 48, bytes[index] <= 57 {
            value = value * 10 + Int(bytes[index] - 48)
            index += 1
        }
        return index > start ? value : nil
    }

    /// `[+-]hh[:mm[:ss]]` in seconds (sign as written).
    mutating func offset() -> Int? {
        var sign = 1
        if eat(UInt8(ascii: "-")) { sign = -1 } else { _ = eat(UInt8(ascii: "+")) }
        guard let hours = number(maxDigits: 3), hours <= 167 else { return nil }
        var seconds = hours * 3600
        if eat(UInt8(ascii: ":")) {
            guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
            seconds += minutes * 60
            if eat(UInt8(ascii: ":")) {
                guard let secs = number(maxDigits: 2), secs < 60 else { return nil }
                seconds += secs
            }
        }
        return sign * seconds
    }

    mutating func change() -> POSIXZoneRule.Change? {
        let day: POSIXZoneRule.Change.Day
        if eat(UInt8(ascii: "M")) {
            guard let month = number(maxDigits: 2), (1...12).contains(month), eat(UInt8(ascii: ".")),
                let week = number(maxDigits: 1), (1...5).contains(week), eat(UInt8(ascii: ".")),
                let weekday = number(maxDigits: 1), (0...6).contains(weekday)
            else { return nil }
            day = .monthWeekDay(month: month, week: week, weekday: weekday)
        } else if eat(UInt8(ascii: "J")) {
            guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
            day = .julianNoLeap(n)
        } else {
            guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
            day = .zeroBased(n)
        }
        var time = 7200
        if eat(UInt8(ascii: "/")) {
            guard let value = offset() else { return nil }
            time = value
        }
        return POSIXZoneRule.Change(day: day, time: time)
    }
}
