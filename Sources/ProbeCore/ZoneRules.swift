import Foundation

/// The UTC offsets of one IANA time zone over time, read from its TZif file (RFC 8536) in the system's zoneinfo
/// folder, so named zones work in a static binary without ICU.
///
/// Foundation's `TimeZone(identifier:)` in a `--static-swift-stdlib` binary returns nil unless ICU-backed
/// internationalization code happens to be linked in, and when it is, it keeps ICU's data resident. A TZif file is a
/// few kilobytes: transition times, the offset after each, and a POSIX TZ rule for the times after the last one.
public struct ZoneRules: Sendable, Equatable {
    /// The name it was loaded by (`Europe/Berlin`).
    public var identifier: String
    /// Transition instants (seconds since 1970, UTC), ascending.
    var transitions: [Int64]
    /// The offset (seconds east of UTC) in effect from each transition on.
    var offsetsAfter: [Int]
    /// The offset before the first transition.
    var initialOffset: Int
    /// The rule for instants after the last transition (the TZif footer), when the file has one.
    var footer: POSIXZoneRule?

    /// Where Debian (and the image) keeps the zone files (the `tzdata` package, priority required).
    public static let systemDirectory = "/usr/share/zoneinfo"

    init(identifier: String, transitions: [Int64], offsetsAfter: [Int], initialOffset: Int, footer: POSIXZoneRule?) {
        self.identifier = identifier
        self.transitions = transitions
        self.offsetsAfter = offsetsAfter
        self.initialOffset = initialOffset
        self.footer = footer
    }

    /// A zone that is always `offset` seconds east of UTC.
    public static func fixed(_ identifier: String, offset: Int = 0) -> ZoneRules {
        ZoneRules(identifier: identifier, transitions: [], offsetsAfter: [], initialOffset: offset, footer: nil)
    }

    /// The zone of an IANA name, or nil when the name is not a zone file under `directory`. `UTC`, `Etc/UTC` and
    /// `GMT` work without the files.
    public static func named(_ identifier: String, directory: String = systemDirectory) -> ZoneRules? {
        let allowed = identifier.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+")
        }
        guard allowed, !identifier.isEmpty, !identifier.hasPrefix("/"),
            !identifier.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
        else { return nil }
        if let data = FileManager.default.contents(atPath: directory + "/" + identifier),
            var zone = ZoneRules(tzif: [UInt8](data))
        {
            zone.identifier = identifier
            return zone
        }
        return ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu", "Etc/Zulu", "UCT", "Etc/UCT"].contains(identifier)
            ? .fixed(identifier) : nil
    }

    /// Parses a TZif file (version 1, 2, 3 or 4); nil when it is not one or is cut short.
    public init?(tzif bytes: [UInt8], identifier: String = "") {
        var reader = TZifReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        var header = first
        var timeSize = 4
        if first.version >= 2 {
            // Skip the 32-bit block; the 64-bit one after it covers every instant.
            guard reader.skip(first.blockLength(timeSize: 4)), let second = reader.header() else { return nil }
            header = second
            timeSize = 8
        }
        var transitions: [Int64] = []
        transitions.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount {
            guard let value = timeSize == 8 ? reader.int64() : reader.int32().map(Int64.init) else { return nil }
            transitions.append(value)
        }
        var typeIndices: [Int] = []
        for _ in 0..<header.timeCount {
            guard let index = reader.byte() else { return nil }
            typeIndices.append(Int(index))
        }
        var types: [(offset: Int, isDST: Bool)] = []
        for _ in 0..<header.typeCount {
            guard let offset = reader.int32(), let isDST = reader.byte(), reader.byte() != nil else { return nil }
            types.append((Int(offset), isDST != 0))
        }
        guard !types.isEmpty, typeIndices.allSatisfy({ $0 < types.count }),
            zip(transitions, transitions.dropFirst()).allSatisfy({ $0 < $1 })
        else { return nil }
        guard reader.skip(header.charCount + header.leapCount * (timeSize + 4) + header.isStdCount + header.isUTCount)
        else { return nil }
        var footer: POSIXZoneRule?
        if first.version >= 2, let text = reader.footer(), !text.isEmpty {
            footer = POSIXZoneRule(text)
        }
        self.identifier = identifier
        self.transitions = transitions
        self.offsetsAfter = typeIndices.map { types[$0].offset }
        // RFC 8536 §3.2: local time type 0 applies before the first transition.
        self.initialOffset = types[0].offset
        self.footer = footer
    }

    /// Seconds east of UTC at an instant.
    public func offset(at date: Date) -> Int {
        offset(atSecond: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    func offset(atSecond second: Int64) -> Int {
        guard let last = transitions.last else { return footer?.offset(atSecond: second) ?? initialOffset }
        if second >= last {
            return footer?.offset(atSecond: second) ?? offsetsAfter[offsetsAfter.count - 1]
        }
        if second < transitions[0] { return initialOffset }
        // The last transition at or before `second`.
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if transitions[middle] <= second { low = middle } else { high = middle - 1 }
        }
        return offsetsAfter[low]
    }

    /// The wall-clock time in this zone at an instant.
    public func civil(at date: Date) -> CivilTime {
        let second = Int64(date.timeIntervalSince1970.rounded(.down))
        return CivilTime(secondsSince1970: second + Int64(offset(atSecond: second)))
    }

    /// The instant a wall-clock time in this zone names. Of a time that occurs twice (the hour repeated when clocks
    /// go back) the first; a time skipped when clocks go forward is read with the offset before the change, so
    /// 02:30 on a night that jumps from 02:00 to 03:00 is 03:30 of the new offset (as `DateFormatter` reads it).
    public func date(fromLocal civil: CivilTime) -> Date {
        let local = civil.secondsSince1970
        var candidates = Set(offsetsAfter + [initialOffset])
        if let footer { candidates.formUnion(footer.offsets) }
        let ordered = candidates.sorted(by: >)
        for candidate in ordered where offset(atSecond: local - Int64(candidate)) == candidate {
            return Date(timeIntervalSince1970: Double(local - Int64(candidate)))
        }
        let before = offset(atSecond: local - Int64(ordered.first ?? 0))
        return Date(timeIntervalSince1970: Double(local - Int64(before)))
    }
}

/// Big-endian reads over a TZif file.
private struct TZifReader {
    let bytes: [UInt8]
    var index = 0

    struct Header {
        var version: Int
        var isUTCount, isStdCount, leapCount, timeCount, typeCount, charCount: Int

        func blockLength(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + charCount + leapCount * (timeSize + 4) + isStdCount
                + isUTCount
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func header() -> Header? {
        guard index + 44 <= bytes.count, bytes[index] == 0x54, bytes[index + 1] == 0x5A, bytes[index + 2] == 0x69,
            bytes[index + 3] == 0x66
        else { return nil }
        let versionByte = bytes[index + 4]
        let version = versionByte == 0 ? 1 : Int(versionByte) - 48
        guard (1...9).contains(version) else { return nil }
        index += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            guard let count = int32(), count >= 0, count < 1 << 20 else { return nil }
            counts.append(Int(count))
        }
        return Header(
            version: version, isUTCount: counts[0], isStdCount: counts[1], leapCount: counts[2],
            timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, index + count <= bytes.count else { return false }
        index += count
        return true
    }

    mutating func byte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func int32() -> Int32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(bytes[index + offset]) }
        index += 4
        return Int32(bitPattern: value)
    }

    mutating func int64() -> Int64? {
        guard index + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value = value << 8 | UInt64(bytes[index + offset]) }
        index += 8
        return Int64(bitPattern: value)
    }

    /// `\n<TZ string>\n` after the 64-bit block.
    mutating func footer() -> String? {
        guard index < bytes.count, bytes[index] == 0x0A else { return nil }
        let start = index + 1
        guard let end = bytes[start...].firstIndex(of: 0x0A) else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
