import Foundation
import ProbeCore
import Testing

@Suite("Maintenance windows")
struct MaintenanceWindowTests {
    static func plan(_ yaml: String) throws -> MaintenancePlan {
        let root = try ConfigMap.parse(
            yaml: yaml, file: "alerts.yaml", substitution: EnvironmentSubstitution(environment: [:]))
        let plan = try MaintenancePlan.parse(root)
        try root.finish()
        return plan
    }

    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static let sundayNight = """
        maintenance:
          - name: backup
            reason: MongoDB dump
            timezone: Europe/Berlin
            weekly:
              - days: [sun]
                from: "01:00"
                to: "04:00"
            services: [mongo]
        """

    static let mongo = AlertSubject(service: .mongo, severity: .critical, checks: ["mongo.ping"])
    static let redis = AlertSubject(service: .redis, severity: .critical, checks: ["redis.write"])

    // 2026-03-29 is the last Sunday of March: Berlin jumps from 02:00 CET (+1) to 03:00 CEST (+2).
    @Test(
        "spring forward: 01:00–04:00 Berlin is 00:00–02:00 UTC",
        arguments: [
            ("2026-03-28T23:59:00Z", false),  // 00:59 CET
            ("2026-03-29T00:00:00Z", true),  // 01:00 CET
            ("2026-03-29T00:59:00Z", true),  // 01:59 CET
            ("2026-03-29T01:00:00Z", true),  // 03:00 CEST (02:00–03:00 never happened)
            ("2026-03-29T01:59:00Z", true),  // 03:59 CEST
            ("2026-03-29T02:00:00Z", false),  // 04:00 CEST; a fixed +1 offset would still say 03:00
            ("2026-03-29T02:30:00Z", false),
        ])
    func springForward(_ instant: String, _ open: Bool) throws {
        let plan = try Self.plan(Self.sundayNight)
        #expect(plan.isInMaintenance(Self.mongo, at: Self.utc(instant)) == open, "\(instant)")
        #expect(!plan.isInMaintenance(Self.redis, at: Self.utc(instant)), "another service is not covered")
    }

    // 2026-10-25 is the last Sunday of October: Berlin goes back from 03:00 CEST (+2) to 02:00 CET (+1).
    @Test(
        "fall back: 01:00–04:00 Berlin is 23:00–03:00 UTC",
        arguments: [
            ("2026-10-24T22:59:00Z", false),  // 00:59 CEST
            ("2026-10-24T23:00:00Z", true),  // 01:00 CEST
            ("2026-10-25T00:30:00Z", true),  // 02:30 CEST
            ("2026-10-25T01:30:00Z", true),  // 02:30 CET (the second time)
            ("2026-10-25T02:30:00Z", true),  // 03:30 CET; a fixed +2 offset would say 04:30
            ("2026-10-25T02:59:00Z", true),
            ("2026-10-25T03:00:00Z", false),  // 04:00 CET
        ])
    func fallBack(_ instant: String, _ open: Bool) throws {
        let plan = try Self.plan(Self.sundayNight)
        #expect(plan.isInMaintenance(Self.mongo, at: Self.utc(instant)) == open, "\(instant)")
    }

    @Test func aRangePastMidnightEndsTheNextDay() throws {
        let plan = try Self.plan(
            """
            maintenance:
              - name: nightly
                reason: restarts
                timezone: UTC
                weekly:
                  - days: [fri]
                    from: "22:00"
                    to: "02:00"
            """)
        let any = AlertSubject(service: .agents, severity: .warning)
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-08-21T21:59:00Z")))  // Friday
        #expect(plan.isInMaintenance(any, at: Self.utc("2026-08-21T22:00:00Z")))
        #expect(plan.isInMaintenance(any, at: Self.utc("2026-08-22T01:59:00Z")))  // Saturday morning
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-08-22T02:00:00Z")))
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-08-22T23:00:00Z")))  // Saturday night: not Friday
    }

    @Test func adHocWindowWithOffsetOrLocalTime() throws {
        let plan = try Self.plan(
            """
            maintenance:
              - name: upgrade
                reason: ClearML 2.3 upgrade
                start: 2026-09-01T18:00:00+02:00
                end: 2026-09-01T20:00:00+02:00
              - name: es-reindex
                reason: reindex
                timezone: America/New_York
                start: "2026-09-02 09:00"
                end: "2026-09-02 10:00"
                services: [elasticsearch]
            """)
        let any = AlertSubject(service: .apiserver, severity: .critical, checks: ["apiserver.ping"])
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-09-01T15:59:59Z")))
        #expect(plan.isInMaintenance(any, at: Self.utc("2026-09-01T16:00:00Z")))
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-09-01T18:00:00Z")))
        let es = AlertSubject(service: .elasticsearch, severity: .critical, checks: ["elasticsearch.health"])
        #expect(plan.isInMaintenance(es, at: Self.utc("2026-09-02T13:30:00Z")))
        #expect(!plan.isInMaintenance(any, at: Self.utc("2026-09-02T13:30:00Z")))
    }

    @Test func checkWindowsQuietAnIncidentOnlyWhenEveryFailingCheckIsCovered() throws {
        let plan = try Self.plan(
            """
            maintenance:
              - name: tls-rotation
                reason: certificate rotation
                timezone: UTC
                weekly:
                  - days: daily
                    from: "00:00"
                    to: "24:00"
                checks: [ingress.tls]
            """)
        let date = Self.utc("2026-08-22T10:00:00Z")
        #expect(
            plan.isInMaintenance(
                AlertSubject(service: .nginx, severity: .warning, checks: ["ingress.tls/public"]), at: date))
        #expect(
            !plan.isInMaintenance(
                AlertSubject(
                    service: .nginx, severity: .critical, checks: ["ingress.tls/public", "ingress.routes/api"]),
                at: date))
    }

    @Test(
        "bad windows are located errors",
        arguments: [
            (
                "maintenance:\n  - name: x\n    timezone: Europe/Berlin\n    weekly:\n      - days: [sun]\n        from: \"01:00\"\n        to: \"04:00\"\n",
                "alerts.yaml:2:5: maintenance[0]: 'reason' is required"
            ),
            (
                "maintenance:\n  - reason: r\n    timezone: Mars/Olympus\n    weekly: []\n",
                "alerts.yaml:3:15: maintenance[0].timezone: 'Mars/Olympus' is not an IANA time zone"
            ),
            (
                "maintenance:\n  - reason: r\n    weekly:\n      - days: [sun]\n        from: \"01:00\"\n        to: \"04:00\"\n",
                "alerts.yaml:4:7: maintenance[0].weekly: a weekly window needs a 'timezone'"
            ),
            (
                "maintenance:\n  - reason: r\n    timezone: UTC\n    weekly:\n      - days: [sunnday]\n        from: \"01:00\"\n        to: \"04:00\"\n",
                "alerts.yaml:5:15: maintenance[0].weekly[0].days: 'sunnday' is not a day"
            ),
            (
                "maintenance:\n  - reason: r\n    timezone: UTC\n    weekly:\n      - days: [sun]\n        from: \"25:00\"\n        to: \"04:00\"\n",
                "alerts.yaml:6:15: maintenance[0].weekly[0].from: '25:00' is not a time of day"
            ),
            (
                "maintenance:\n  - reason: r\n    start: 2026-09-01T18:00:00Z\n    end: 2026-09-01T17:00:00Z\n",
                "alerts.yaml:4:10: maintenance[0].end: the end must be after the start"
            ),
            (
                "maintenance:\n  - reason: r\n    start: tomorrow\n    end: 2026-09-01T17:00:00Z\n",
                "alerts.yaml:3:12: maintenance[0].start: 'tomorrow' is not a time"
            ),
            (
                "maintenance:\n  - reason: r\n    start: 2026-09-01T17:00:00Z\n    end: 2026-09-01T18:00:00Z\n    service: [mongo]\n",
                "alerts.yaml:5:5: unknown key 'service' in maintenance[0]"
            ),
        ])
    func badWindows(_ yaml: String, _ expected: String) {
        do {
            _ = try Self.plan(yaml)
            Issue.record("expected \(expected)")
        } catch {
            #expect("\(error)".hasPrefix(expected), "got \(error)")
        }
    }
}
