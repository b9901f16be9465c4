import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

@Suite struct OutboxTests {
    typealias F = AlertFixtures
    static let limits = AlertPolicy()
    static let targets = [Outbox.Target(name: "a", fingerprint: "fa"), Outbox.Target(name: "b", fingerprint: "fb")]
    static let backoff = Backoff()

    @Test func aResolvedNeverOvertakesItsFiringAndAnotherLaneIsNotBlocked() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: Self.targets, now: F.t0, limits: Self.limits)
        outbox.enqueue(F.message(.resolved, id: "r1"), to: Self.targets, now: F.t0, limits: Self.limits)
        outbox.enqueue(F.message(.firing, incident: "i2", id: "f2"), to: Self.targets, now: F.t0, limits: Self.limits)
        var due = outbox.due(now: F.t0, excluding: [], limits: Self.limits)
        #expect(due.map(\.id) == ["a/f1", "b/f1", "a/f2", "b/f2"])
        // The firing for "a" fails: its RESOLVED waits behind it; the other incident goes on.
        outbox.record(
            "a/f1", outcome: .retry(after: nil, reason: "HTTP 500"), disablesDestination: false, fingerprint: "fa",
            now: F.t0, backoff: Self.backoff, unit: 1, limits: Self.limits)
        for id in ["b/f1", "a/f2", "b/f2"] {
            outbox.record(
                id, outcome: .delivered, disablesDestination: false, fingerprint: "", now: F.t0, backoff: Self.backoff,
                unit: 0, limits: Self.limits)
        }
        due = outbox.due(now: F.t0.addingTimeInterval(1), excluding: [], limits: Self.limits)
        #expect(due.map(\.id) == ["b/r1"], "a's lane waits out its backoff; its RESOLVED stays behind the firing")
        due = outbox.due(now: F.t0.addingTimeInterval(6), excluding: [], limits: Self.limits)
        #expect(due.map(\.id) == ["a/f1", "b/r1"])
    }

    @Test func aResolvedGoesOnlyWhereTheIncidentWasAnnounced() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        outbox.enqueue(F.message(.resolved, id: "r1"), to: Self.targets, now: F.t0, limits: Self.limits)
        #expect(outbox.entries.map(\.id) == ["a/f1", "a/r1"])
    }

    @Test func aStaleFiringIsDroppedOnlyWithItsResolved() {
        var outbox = Outbox()
        let old = F.t0
        outbox.enqueue(F.message(.firing, id: "f1", at: old), to: [Self.targets[0]], now: old, limits: Self.limits)
        outbox.enqueue(
            F.message(.firing, incident: "i2", id: "f2", at: old), to: [Self.targets[0]], now: old, limits: Self.limits)
        let later = old.addingTimeInterval(13 * 3600)
        outbox.enqueue(
            F.message(.resolved, id: "r1", at: later), to: [Self.targets[0]], now: later, limits: Self.limits)
        let due = outbox.due(now: later, excluding: [], limits: Self.limits)
        #expect(
            due.map(\.id) == ["a/f2"], "i1's stale firing went with its RESOLVED; i2 is still open, so its firing stays"
        )
        #expect(outbox.droppedStale == 2)
    }

    @Test func aResolvedIsNeverDroppedAloneEvenWhenStale() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        outbox.record(
            "a/f1", outcome: .delivered, disablesDestination: false, fingerprint: "", now: F.t0, backoff: Self.backoff,
            unit: 0, limits: Self.limits)
        outbox.enqueue(F.message(.resolved, id: "r1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        let due = outbox.due(now: F.t0.addingTimeInterval(48 * 3600), excluding: [], limits: Self.limits)
        #expect(due.map(\.id) == ["a/r1"])
    }

    @Test func aDeliveredFiringsStaleReminderIsSupersededButTheResolvedStays() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        outbox.record(
            "a/f1", outcome: .delivered, disablesDestination: false, fingerprint: "", now: F.t0, backoff: Self.backoff,
            unit: 0, limits: Self.limits)
        outbox.enqueue(F.message(.reminder, id: "m1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        let later = F.t0.addingTimeInterval(13 * 3600)
        outbox.enqueue(
            F.message(.resolved, id: "r1", at: later), to: [Self.targets[0]], now: later, limits: Self.limits)
        #expect(outbox.due(now: later, excluding: [], limits: Self.limits).map(\.id) == ["a/r1"])
    }

    @Test func permanentErrorsGoToCappedDeadLettersAndA410DisablesTheDestination() {
        var limits = AlertPolicy()
        limits.maxDeadLetters = 2
        var outbox = Outbox()
        for index in 0..<3 {
            outbox.enqueue(
                F.message(.firing, incident: "i\(index)", id: "f\(index)"), to: [Self.targets[0]], now: F.t0,
                limits: limits)
        }
        outbox.record(
            "a/f0", outcome: .permanent(reason: "HTTP 410"), disablesDestination: true, fingerprint: "fa",
            now: F.t0, backoff: Self.backoff, unit: 0, limits: limits)
        #expect(outbox.entries.isEmpty, "everything else for a disabled destination is set aside")
        #expect(outbox.deadLetters.count == 2)
        #expect(outbox.deadLettersEvicted == 1)
        outbox.enqueue(F.message(.firing, incident: "i9", id: "f9"), to: [Self.targets[0]], now: F.t0, limits: limits)
        #expect(outbox.entries.isEmpty)
        #expect(outbox.deadLetters.last?.reason.hasPrefix("not sent: destination disabled") == true)
        // A new URL (new fingerprint) enables it again.
        outbox.reconcile(with: [Outbox.Target(name: "a", fingerprint: "new")], now: F.t0, limits: limits)
        outbox.enqueue(
            F.message(.firing, incident: "i10", id: "f10"), to: [Outbox.Target(name: "a", fingerprint: "new")],
            now: F.t0, limits: limits)
        #expect(outbox.entries.map(\.id) == ["a/f10"])
    }

    @Test func retryAfterPausesTheWholeDestinationAndIsAMinimum() {
        var outbox = Outbox()
        outbox.enqueue(F.message(.firing, id: "f1"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        outbox.enqueue(
            F.message(.firing, incident: "i2", id: "f2"), to: [Self.targets[0]], now: F.t0, limits: Self.limits)
        outbox.record(
            "a/f1", outcome: .retry(after: 30, reason: "HTTP 429"), disablesDestination: false, fingerprint: "",
            now: F.t0, backoff: Self.backoff, unit: 0, limits: Self.limits)
        #expect(outbox.due(now: F.t0.addingTimeInterval(29), excluding: [], limits: Self.limits).isEmpty)
        #expect(
            outbox.due(now: F.t0.addingTimeInterval(30), excluding: [], limits: Self.limits).map(\.id) == [
                "a/f1", "a/f2",
            ])
    }

    @Test func backoffIsExponentialWithFullJitterAndAHintFloor() {
        let backoff = Backoff(base: 5, cap: 900, floor: 1)
        #expect(backoff.delay(afterAttempt: 1, hint: nil, unit: 1) == 5)
        #expect(backoff.delay(afterAttempt: 4, hint: nil, unit: 1) == 40)
        #expect(backoff.delay(afterAttempt: 20, hint: nil, unit: 1) == 900)
        #expect(backoff.delay(afterAttempt: 4, hint: nil, unit: 0.5) == 20)
        #expect(backoff.delay(afterAttempt: 4, hint: nil, unit: 0) == 1)
        #expect(backoff.delay(afterAttempt: 1, hint: 60, unit: 1) == 60)
    }

    @Test func theOutboxIsCappedAndNothingIsDroppedSilently() {
        var limits = AlertPolicy()
        limits.maxOutbox = 10
        var outbox = Outbox()
        for index in 0..<12 {
            outbox.enqueue(
                F.message(.firing, incident: "i\(index)", id: "f\(index)"), to: [Self.targets[0]], now: F.t0,
                limits: limits)
        }
        #expect(outbox.entries.count == 10)
        #expect(outbox.deadLetters.map(\.message.messageID) == ["f0", "f1"])
        #expect(outbox.deadLetters.first?.reason.hasPrefix("outbox full") == true)
    }
}
