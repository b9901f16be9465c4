import Foundation
import ProbeCore
import Testing

/// Expected values from GNU `date -u -d @N` (an implementation independent of ours).
@Suite("UTC timestamps and civil time without ICU")
struct UTCTimestampTests {
    @Test(
        "seconds since 1970 ↔ civil time",
        arguments: [
            (Int64(0), "1970-01-01 00:00:00", 5),  // a Thursday
            (-1, "1969-12-31 23:59:59", 4),
            (951_782_400, "2000-02-29 00:00:00", 3),  // leap day of a year divisible by 400
            (1_700_000_000, "2023-11-14 22:13:20", 3),
            (253_402_300_799, "9999-12-31 23:59:59", 6),
            (-62_135_596_800, "0001-01-01 00:00:00", 2),
        ])
    func civil(seconds: Int64, text: String, weekday: Int) {
        let civil = CivilTime(secondsSince1970: seconds)
        #expect(civil.description == text)
        #expect(civil.weekday == weekday)
        #expect(civil.secondsSince1970 == seconds)
    }

    @Test("RFC 3339 in UTC, with and without a fraction")
    func format() {
        #expect(UTCTimestamp.rfc3339(Date(timeIntervalSince1970: 1_700_000_000)) == "2023-11-14T22:13:20Z")
        #expect(
            UTCTimestamp.rfc3339(Date(timeIntervalSince1970: 1_700_000_000.5), fractionDigits: 3)
                == "2023-11-14T22:13:20.500Z")
        #expect(
            UTCTimestamp.rfc3339(Date(timeIntervalSince1970: -0.25), fractionDigits: 3) == "1969-12-31T23:59:59.750Z")
        #expect(UTCTimestamp.day(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
        #expect(UTCTimestamp.minute(Date(timeIntervalSince1970: 1_700_000_000)) == "2023-11-14 22:13")
    }

    @Test(
        "reading RFC 3339",
        arguments: [
            ("2026-09-01T18:00:00+02:00", 1_788_278_400.0),
            ("2026-09-01T16:00:00Z", 1_788_278_400.0),
            ("2026-09-01t16:00:00z", 1_788_278_400.0),
            ("2026-09-01T16:00:00.250Z", 1_788_278_400.25),
            ("2026-09-01T16:00:00.123456789-00:00", 1_788_278_400.123456789),
            ("2000-02-29T00:00:00Z", 951_782_400.0),
        ])
    func parse(text: String, seconds: Double) throws {
        let date = try #require(UTCTimestamp.parseRFC3339(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(
        "what is not RFC 3339 is nil, never a guess",
        arguments: [
            "", "2026-09-01", "2026-09-01T18:00:00", "2026-09-01T18:00Z", "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-09-01T24:00:00Z", "2026-09-01T18:00:60Z", "2026-09-01T18:00:00+2:00", "2026-09-01T18:00:00.Z",
            "2026-09-01T18:00:00Zjunk", "2100-02-29T00:00:00Z", "२०२६-09-01T18:00:00Z",
        ])
    func rejects(text: String) {
        #expect(UTCTimestamp.parseRFC3339(text) == nil)
    }

    @Test("wall-clock times without a zone")
    func local() {
        #expect(UTCTimestamp.parseLocal("2026-09-01 18:00") == CivilTime(year: 2026, month: 9, day: 1, hour: 18))
        #expect(
            UTCTimestamp.parseLocal("2026-09-01T18:00:30")
                == CivilTime(year: 2026, month: 9, day: 1, hour: 18, second: 30))
        #expect(UTCTimestamp.parseLocal("2026-09-01 18:00Z") == nil)
        #expect(UTCTimestamp.parseLocal("2026-09-31 18:00") == nil)
    }
}
