import Foundation
import ProbeCore
import Testing

@Suite("Silences, maintenance and what pages")
struct PagingGateTests {
    static let t0 = Date(timeIntervalSince1970: 1_787_392_800)  // 2026-08-22T10:00:00Z

    static func message(
        _ event: AlertMessage.Event, service: Service = .redis, checks: [String] = ["redis.write"],
        at date: Date, id: String = "prod/redis/1"
    ) -> AlertMessage {
        AlertMessage(
            messageID: "\(id)#\(event.rawValue)@\(Int(date.timeIntervalSince1970))", incidentID: id, event: event,
            severity: .critical, service: service, title: "\(service.displayName) is down", summary: "down",
            causes: checks.map { .init(key: $0, status: .critical, summary: "failed") },
            startedAt: t0, resolvedAt: event == .resolved ? date : nil, createdAt: date, instance: "prod")
    }

    @Test func matchersAreReadFromWhatPeopleType() throws {
        #expect(try Silence.Matcher.parse("redis") == .init(kind: .service, value: "redis"))
        #expect(try Silence.Matcher.parse("data") == .init(kind: .layer, value: "data"))
        #expect(try Silence.Matcher.parse("redis.write") == .init(kind: .check, value: "redis.write"))
        #expect(try Silence.Matcher.parse("ingress.routes/api") == .init(kind: .check, value: "ingress.routes/api"))
        #expect(try Silence.Matcher.parse("service:mongo") == .init(kind: .service, value: "mongo"))
        #expect(throws: Silences.Failure.self) { try Silence.Matcher.parse("rediss") }
        #expect(throws: Silences.Failure.self) { try Silence.Matcher.parse("service:postgres") }
    }

    @Test func addListRemoveAndLimits() throws {
        var silences = Silences()
        let a = try silences.add(
            match: "redis", duration: 7200, reason: "disk swap", createdBy: "ops", now: Self.t0, id: "s-00000001")
        #expect(a.expiresAt == Self.t0.addingTimeInterval(7200))
        #expect(silences.active(at: Self.t0.addingTimeInterval(7199)).map(\.id) == ["s-00000001"])
        #expect(silences.active(at: Self.t0.addingTimeInterval(7200)).isEmpty)
        #expect(throws: Silences.Failure.self) {
            try silences.add(match: "redis", duration: 60, reason: "  ", now: Self.t0)
        }
        #expect(throws: Silences.Failure.self) {
            try silences.add(match: "redis", duration: 0, reason: "x", now: Self.t0)
        }
        #expect(throws: Silences.Failure.self) {
            try silences.add(match: "redis", duration: 31 * 86400, reason: "x", now: Self.t0)
        }
        _ = try silences.add(match: "data", duration: 60, reason: "x", now: Self.t0, id: "s-00000002")
        #expect(try silences.remove(id: "s-00000002").matcher.kind == .layer)
        #expect(throws: Silences.Failure.self) { try silences.remove(id: "s-00000002") }
        // Round trip through the file format.
        let decoded = try Silences.decode(try silences.encoded())
        #expect(decoded == silences)
        #expect(
            String(decoding: try silences.encoded(), as: UTF8.self).contains(
                "\"expires_at\" : \"2026-08-22T12:00:00Z\""))
        // Long expired silences are pruned on the next change.
        _ = try silences.add(
            match: "mongo", duration: 60, reason: "x", now: Self.t0.addingTimeInterval(8 * 86400), id: "s-00000003")
        #expect(silences.silences.map(\.id) == ["s-00000003"])
    }

    @Test func aSilencedCheckDoesNotPageButItsServiceStillCanThroughAnotherCheck() throws {
        var silences = Silences()
        _ = try silences.add(match: "redis.write", duration: 3600, reason: "known", now: Self.t0, id: "s-1")
        let gate = PagingGate(silences: silences.silences)
        let one = AlertSubject(service: .redis, severity: .critical, checks: ["redis.write"])
        let two = AlertSubject(service: .redis, severity: .critical, checks: ["redis.write", "redis.status"])
        #expect(
            gate.verdict(for: one, at: Self.t0.addingTimeInterval(60))
                == .silenced(ids: ["s-1"], until: Self.t0.addingTimeInterval(3600)))
        #expect(gate.verdict(for: two, at: Self.t0.addingTimeInterval(60)) == .page)
    }

    /// The story the issue asks for, on a controlled clock: an incident opens under a silence, does not page, and
    /// pages as soon as the silence expires while it is still open; its RESOLVED is then sent.
    @Test func aSilenceThatExpiresWhileAnIncidentIsOpenPagesThen() throws {
        var silences = Silences()
        _ = try silences.add(match: "redis", duration: 2 * 3600, reason: "Redis migration", now: Self.t0, id: "s-redis")
        let gate = PagingGate(silences: silences.silences)
        var ledger = PagingLedger()
        var clock = Self.t0.addingTimeInterval(10 * 60)

        let firing = Self.message(.firing, at: clock)
        guard case .hold(.silenced(let ids, let until)) = ledger.decide(firing, gate: gate, now: clock) else {
            Issue.record("a silenced firing must be held")
            return
        }
        #expect(ids == ["s-redis"])
        #expect(until == Self.t0.addingTimeInterval(7200))

        clock = Self.t0.addingTimeInterval(3600)
        #expect(ledger.release(now: clock, gate: gate).isEmpty, "still silenced after 1 h")
        let reminder = Self.message(.reminder, at: clock)
        #expect(
            ledger.decide(reminder, gate: gate, now: clock)
                == .hold(.silenced(ids: ["s-redis"], until: Self.t0.addingTimeInterval(7200))))

        clock = Self.t0.addingTimeInterval(7200)
        let released = ledger.release(now: clock, gate: gate)
        #expect(released.count == 1)
        #expect(released.first?.event == .firing, "a held reminder pages as a firing")
        #expect(released.first?.incidentID == "prod/redis/1")
        #expect(ledger.hasPaged("prod/redis/1"))
        #expect(ledger.release(now: clock.addingTimeInterval(60), gate: gate).isEmpty, "pages once")

        let resolved = Self.message(.resolved, at: clock.addingTimeInterval(600))
        #expect(ledger.decide(resolved, gate: gate, now: clock.addingTimeInterval(600)) == .send(resolved))
        #expect(ledger.incidents.isEmpty)
    }

    @Test func anIncidentThatNeverPagedResolvesQuietly() throws {
        var silences = Silences()
        _ = try silences.add(match: "data", duration: 3600, reason: "planned", now: Self.t0, id: "s-data")
        let gate = PagingGate(silences: silences.silences)
        var ledger = PagingLedger()
        let at = Self.t0.addingTimeInterval(60)
        #expect(
            ledger.decide(Self.message(.firing, at: at), gate: gate, now: at) != .send(Self.message(.firing, at: at)))
        guard
            case .drop = ledger.decide(
                Self.message(.resolved, at: at.addingTimeInterval(60)), gate: gate, now: at.addingTimeInterval(60))
        else {
            Issue.record("a RESOLVED for an incident that never paged is dropped")
            return
        }
    }

    @Test func aResolvedIsSentForAnIncidentThatPagedEvenUnderANewSilence() throws {
        var ledger = PagingLedger()
        let open = PagingGate()
        let at = Self.t0.addingTimeInterval(60)
        let firing = Self.message(.firing, at: at)
        #expect(ledger.decide(firing, gate: open, now: at) == .send(firing))
        var silences = Silences()
        _ = try silences.add(match: "redis", duration: 3600, reason: "after the fact", now: at, id: "s-late")
        let quiet = PagingGate(silences: silences.silences)
        let reminder = Self.message(.reminder, at: at.addingTimeInterval(60))
        guard case .hold = ledger.decide(reminder, gate: quiet, now: at.addingTimeInterval(60)) else {
            Issue.record("a reminder under a silence is held")
            return
        }
        let resolved = Self.message(.resolved, at: at.addingTimeInterval(120))
        #expect(ledger.decide(resolved, gate: quiet, now: at.addingTimeInterval(120)) == .send(resolved))
    }

    @Test func maintenanceHoldsAndThenPagesWhenTheWindowCloses() throws {
        let window = MaintenanceWindow(
            name: "upgrade", reason: "2.3 upgrade", selector: AlertSelector(services: [.apiserver]),
            schedule: .once(start: Self.t0, end: Self.t0.addingTimeInterval(1800)))
        let gate = PagingGate(maintenance: MaintenancePlan(windows: [window]))
        var ledger = PagingLedger()
        let at = Self.t0.addingTimeInterval(300)
        let firing = Self.message(
            .firing, service: .apiserver, checks: ["apiserver.ping"], at: at, id: "prod/apiserver/1")
        #expect(
            ledger.decide(firing, gate: gate, now: at) == .hold(.maintenance(window: "upgrade", reason: "2.3 upgrade")))
        #expect(ledger.release(now: Self.t0.addingTimeInterval(1799), gate: gate).isEmpty)
        #expect(
            ledger.release(now: Self.t0.addingTimeInterval(1800), gate: gate).map(\.incidentID) == ["prod/apiserver/1"])
        // A test message always goes out.
        let test = Self.message(.test, at: at)
        #expect(ledger.decide(test, gate: gate, now: at) == .send(test))
    }

    @Test func aHeldIncidentWhoseNextMessageIsAReminderIsAnnouncedAsFiring() throws {
        var silences = Silences()
        _ = try silences.add(match: "redis", duration: 600, reason: "x", now: Self.t0, id: "s-1")
        var ledger = PagingLedger()
        _ = ledger.decide(
            Self.message(.firing, at: Self.t0), gate: PagingGate(silences: silences.silences), now: Self.t0)
        let later = Self.t0.addingTimeInterval(4 * 3600)
        guard
            case .send(let sent) = ledger.decide(
                Self.message(.reminder, at: later), gate: PagingGate(silences: silences.silences), now: later)
        else {
            Issue.record("expected a send")
            return
        }
        #expect(sent.event == .firing)
    }

    @Test func theLedgerSurvivesARestart() throws {
        var ledger = PagingLedger()
        var silences = Silences()
        _ = try silences.add(match: "redis", duration: 600, reason: "x", now: Self.t0, id: "s-1")
        _ = ledger.decide(
            Self.message(.firing, at: Self.t0), gate: PagingGate(silences: silences.silences), now: Self.t0)
        let data = try JSONEncoder().encode(ledger)
        var restored = try JSONDecoder().decode(PagingLedger.self, from: data)
        #expect(restored == ledger)
        #expect(
            restored.release(now: Self.t0.addingTimeInterval(600), gate: PagingGate(silences: silences.silences)).count
                == 1)
    }
}
