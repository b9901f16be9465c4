import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

@testable import Probes

/// The probe's sentinel in Redis (`redis.status`): written once, read every run, its loss after a restart that came
/// back empty is a critical finding of Redis; `--read-only` never writes it. Table tests for the pure verdict first.
@Suite(.serialized)
struct StoreSentinelTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func verdicts() {
        let now = Self.t0.addingTimeInterval(100)
        typealias V = StoreSentinel.Verdict
        // found, knownSince, lostAt, readOnly → verdict, knownSince, lostAt
        let cases: [(Bool, Date?, Date?, Bool, V, Date?, Date?)] = [
            (false, nil, nil, false, .firstWrite(readOnly: false), now, nil),
            (false, nil, nil, true, .firstWrite(readOnly: true), nil, nil),
            (true, nil, nil, false, .present(since: now), now, nil),  // written by an earlier process: known from now
            (true, Self.t0, nil, false, .present(since: Self.t0), Self.t0, nil),
            (false, Self.t0, nil, false, .lost(lostAt: now), now, now),  // written again at once
            (false, Self.t0, nil, true, .lost(lostAt: now), Self.t0, now),  // read-only: not written again
            (
                true, now, Self.t0.addingTimeInterval(50), false, .lost(lostAt: Self.t0.addingTimeInterval(50)), now,
                Self.t0.addingTimeInterval(50)
            ),
            (true, Self.t0, Self.t0.addingTimeInterval(-3600), false, .present(since: Self.t0), Self.t0, nil),  // the hold is over
        ]
        for (found, since, lost, readOnly, verdict, keptSince, keptLost) in cases {
            let judged = StoreSentinel.judge(
                found: found, knownSince: since, lostAt: lost, now: now, hold: 600, readOnly: readOnly)
            #expect(
                judged.verdict == verdict,
                "\(found) \(String(describing: since)) \(String(describing: lost)) \(readOnly)")
            #expect(judged.knownSince == keptSince && judged.lostAt == keptLost, "\(judged)")
        }
        #expect(
            StoreSentinel.finding(.lost(lostAt: now), store: "Redis x", evicting: false, holds: "x")?.status
                == .critical)
        #expect(
            StoreSentinel.finding(.lost(lostAt: now), store: "Redis x", evicting: true, holds: "x")?.status == .warning)
        #expect(StoreSentinel.finding(.present(since: now), store: "Redis x", evicting: false, holds: "x") == nil)
    }

    static func check(_ port: Int, hold: Double = 3600) -> RedisStatusCheck {
        var check = RedisStatusCheck(store: RedisStore(host: "127.0.0.1", port: port))
        check.sentinelKey = "clearml-probe:test:sentinel"
        check.lossHold = hold
        return check
    }

    func run(_ check: RedisStatusCheck, state: ProbeState, readOnly: Bool = false) async -> CheckResult {
        let context = CheckContext(
            id: .redisStatus, config: ProbeConfig(instance: "test"), settings: CheckSettings(timeout: 1),
            deadline: .now + .seconds(1), state: state, readOnly: readOnly)
        return await check.run(context)[0]
    }

    @Test func aRedisThatComesBackEmptyLostItsData() async throws {
        let port = Ports.free()
        var server = try await offPool { try RedisServer(port: port) }
        defer { server.stop() }
        let state = ProbeState()
        let check = Self.check(port, hold: 1)
        let first = await run(check, state: state)
        #expect(first.status == .ok && first.summary.contains("sentinel written"), "\(first.summary)")
        let value = await redisAdmin(port, ["GET", "clearml-probe:test:sentinel"])?.text ?? ""
        #expect(value.hasPrefix("20"), "an ISO time: \(value)")
        #expect(
            await redisAdmin(port, ["TTL", "clearml-probe:test:sentinel"]) == .integer(-1),
            "no TTL: an evicting TTL would be a false loss")
        let second = await run(check, state: state)
        #expect(second.status == .ok && second.summary.contains("sentinel kept"), "\(second.summary)")
        #expect(second.metrics["sentinel_present"] == 1)

        // A restart without persistence: the same port, an empty dataset.
        server.stop()
        server = try await offPool { try RedisServer(port: port) }
        let lost = await run(check, state: state)
        #expect(lost.status == .critical, "\(lost.summary)")
        #expect(lost.summary.contains("lost its data"), "\(lost.summary)")
        #expect(lost.id.service == .redis && lost.dependsOn.isEmpty, "a root cause of Redis")
        #expect(
            await redisAdmin(port, ["EXISTS", "clearml-probe:test:sentinel"]) == .integer(1), "written again at once")
        let held = await run(check, state: state)
        #expect(held.status == .critical, "the loss is held so that it pages: \(held.summary)")
        try await Task.sleep(for: .milliseconds(1100))
        let over = await run(check, state: state)
        #expect(over.status == .ok, "resolved after the hold: \(over.summary)")
    }

    @Test func readOnlyNeverWritesTheSentinel() async throws {
        let port = Ports.free()
        let server = try await offPool { try RedisServer(port: port) }
        defer { server.stop() }
        let result = await run(Self.check(port), state: ProbeState(), readOnly: true)
        #expect(result.status == .ok)
        #expect(result.summary.contains("sentinel not written (--read-only)"), "\(result.summary)")
        #expect(await redisAdmin(port, ["EXISTS", "clearml-probe:test:sentinel"]) == .integer(0))
    }

    @Test func theDefaultConfigTurnsItOnAndItCanBeTurnedOff() throws {
        func plan(_ options: String) throws -> RedisStatusCheck? {
            try LoadedConfig.fromYAML(
                "probe: {instance: e2e}\nredis: {host: 127.0.0.1}\nchecks:\n  redis.status: \(options)\n"
            )
            .readyCheck(.redisStatus)
        }
        #expect(try plan("{}")?.sentinelKey == "clearml-probe:e2e:sentinel")
        #expect(try plan("{sentinel: false}")?.sentinelKey == nil)
    }
}
