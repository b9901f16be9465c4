import Foundation
import ProbeCore
import Testing

/// Expected offsets from GNU `date` with `TZ=<zone>` (glibc's reading of the same zone files).
@Suite("Named time zones read from the zone files, without ICU")
struct ZoneRulesTests {
    @Test(
        "offsets at known instants",
        arguments: [
            ("Europe/Berlin", Int64(1_768_478_400), 3600),  // 2026-01-15 12:00Z
            ("Europe/Berlin", 1_782_907_200, 7200),  // 2026-07-01
            ("Europe/Berlin", 1_774_745_999, 3600),  // 2026-03-29 00:59:59Z, just before spring forward
            ("Europe/Berlin", 1_774_746_000, 7200),
            ("Europe/Berlin", 1_792_889_999, 7200),  // 2026-10-25 00:59:59Z, just before falling back
            ("Europe/Berlin", 1_792_890_000, 3600),
            ("Europe/Berlin", 4_118_126_400, 7200),  // 2100-07-01: past the file's transitions, from its rule
            ("Europe/Berlin", 4_102_488_000, 3600),  // 2100-01-01
            ("Europe/Berlin", -2_208_945_600, 3600),  // 1900-01-01
            ("America/New_York", 1_768_478_400, -18000),
            ("America/New_York", 4_118_126_400, -14400),
            ("Australia/Sydney", 1_768_478_400, 39600),  // southern summer
            ("Australia/Sydney", 1_775_318_399, 39600),  // 2026-04-04 15:59:59Z
            ("Australia/Sydney", 1_775_318_400, 36000),
            ("Australia/Sydney", 4_102_488_000, 39600),
            ("Asia/Kolkata", 1_782_907_200, 19800),
            ("Asia/Kolkata", -2_208_945_600, 19270),  // Madras time +05:21:10 in 1900
            ("America/St_Johns", 4_118_126_400, -9000),
            ("UTC", 1_782_907_200, 0),
        ])
    func offsets(zone: String, second: Int64, offset: Int) throws {
        let rules = try #require(ZoneRules.named(zone))
        #expect(rules.offset(at: Date(timeIntervalSince1970: Double(second))) == offset)
        #expect(rules.identifier == zone)
    }

    @Test(
        "wall-clock times in a zone: normal, repeated and skipped",
        arguments: [
            (CivilTime(year: 2026, month: 7, day: 1, hour: 12), 1_782_900_000.0),  // 10:00Z
            (CivilTime(year: 2026, month: 10, day: 25, hour: 2, minute: 30), 1_792_888_200.0),  // first 02:30 (CEST) = 00:30Z
            (CivilTime(year: 2026, month: 3, day: 29, hour: 2, minute: 30), 1_774_747_800.0),  // skipped: read as CET = 01:30Z
        ])
    func local(civil: CivilTime, seconds: Double) throws {
        let berlin = try #require(ZoneRules.named("Europe/Berlin"))
        #expect(berlin.date(fromLocal: civil).timeIntervalSince1970 == seconds)
    }

    @Test(
        "names that are not zone files are nil",
        arguments: [
            "Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "Europe/../Europe/Berlin", "Europe/Berlin\n",
            "zone.tab",
        ])
    func unknown(name: String) {
        #expect(ZoneRules.named(name) == nil)
    }

    @Test("UTC works without the zone files")
    func utcWithoutFiles() throws {
        let utc = try #require(ZoneRules.named("UTC", directory: "/nonexistent"))
        #expect(utc.offset(at: Date(timeIntervalSince1970: 1_782_907_200)) == 0)
        #expect(ZoneRules.named("Europe/Berlin", directory: "/nonexistent") == nil)
    }

    @Test("a cut or foreign file is not a zone")
    func badFiles() throws {
        let data = try #require(FileManager.default.contents(atPath: "/usr/share/zoneinfo/Europe/Berlin"))
        let bytes = [UInt8](data)
        #expect(ZoneRules(tzif: bytes) != nil)
        for length in [0, 4, 43, 44, 100, bytes.count / 2] {
            #expect(ZoneRules(tzif: Array(bytes.prefix(length))) == nil, "cut at \(length)")
        }
        #expect(
            ZoneRules(tzif: Array("not a zone file at all, just words and more words to pass 44 bytes".utf8)) == nil)
    }

    @Test(
        "POSIX TZ rules",
        arguments: [
            ("CET-1CEST,M3.5.0,M10.5.0/3", Int64(1_782_907_200), 7200),
            ("CET-1CEST,M3.5.0,M10.5.0/3", 1_768_478_400, 3600),
            ("AEST-10AEDT,M10.1.0,M4.1.0/3", 1_768_478_400, 39600),
            ("AEST-10AEDT,M10.1.0,M4.1.0/3", 1_782_907_200, 36000),
            ("<+0530>-5:30", 1_782_907_200, 19800),
            ("EST5EDT,M3.2.0,M11.1.0", 1_782_907_200, -14400),
            ("NST3:30NDT,M3.2.0,M11.1.0", 1_768_478_400, -12600),
            ("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", 1_782_907_200, -7200),  // America/Nuuk: negative change times
            ("EST5EDT,J60,300", 1_782_907_200, -14400),
        ])
    func posixRules(text: String, second: Int64, offset: Int) throws {
        let rule = try #require(POSIXZoneRule(text))
        #expect(rule.offset(atSecond: second) == offset)
    }

    @Test(
        "bad POSIX TZ rules are nil",
        arguments: [
            "", "X1", "CET", "CET-1CEST", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0", "CET-1CEST,M3.6.0,M10.5.0",
            "CET-1x",
        ])
    func badPosixRules(text: String) {
        #expect(POSIXZoneRule(text) == nil)
    }
}
