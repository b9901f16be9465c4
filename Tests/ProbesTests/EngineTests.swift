import Foundation
import NativeClients
import ProbeCore
import Probes
import Runtime
import Testing

/// A check that blocks inside a "C call" far past its deadline, ignoring cancellation, as a stuck library would.
struct StuckCheck: Check {
    var seconds: Double
    func run(_ context: CheckContext) async -> [CheckResult] {
        let seconds = self.seconds
        await BlockingExecutor.run(label: "stuck") { Thread.sleep(forTimeInterval: seconds) }
        return [CheckResult(id: context.id, status: .ok, summary: "finished late")]
    }
}

struct FixedCheck: Check {
    var status: Status
    func run(_ context: CheckContext) async -> [CheckResult] {
        [CheckResult(id: context.id, status: status, summary: "fixed \(status.rawValue)")]
    }
}

@Suite("Engine deadlines and overlap")
struct EngineTests {
    func engine(_ checks: [(CheckID, any Check, Double)]) -> Engine {
        let configured = checks.map { id, check, timeout in
            ConfiguredCheck(id: id, settings: CheckSettings(timeout: timeout), plan: .ready(check))
        }
        return Engine(loaded: LoadedConfig(config: ProbeConfig(), checks: configured))
    }

    @Test("a check stuck past its deadline does not hold the run; it is reported and never overlapped")
    func stuckCheck() async {
        let engine = engine([(.mongoPing, StuckCheck(seconds: 3), 0.3), (.apiserverPing, FixedCheck(status: .ok), 0.3)])
        let first = await engine.run()
        // The run came back while the stuck call is still inside C: it did not wait for it.
        #expect(await engine.inFlight.isRunning(.mongoPing), "the run returned before the stuck call did")
        let stuck = first.result("mongo.ping")
        #expect(stuck?.status == .critical)
        #expect(stuck?.summary.contains("did not finish within its 300 ms deadline") == true)
        #expect(first.result("apiserver.ping")?.status == .ok)
        #expect(await engine.inFlight.overruns[.mongoPing] == 1)

        let second = await engine.run()
        #expect(second.result("mongo.ping") == nil)
        #expect(second.notChecked.contains { $0.id == .mongoPing && $0.reason.contains("still inside a C call") })

        // The stuck call ends 3 s after it began; on a loaded machine its thread may start late, so wait for it
        // (bounded) instead of sleeping a fixed time.
        let ends = ContinuousClock.now + .seconds(10)
        while await engine.inFlight.isRunning(.mongoPing), ContinuousClock.now < ends {
            try? await Task.sleep(for: .milliseconds(50))
        }
        #expect(await !engine.inFlight.isRunning(.mongoPing), "the stuck call's slot is freed once the call returns")
    }

    @Test("--only keeps checks by id and by layer; disabled and unconfigured checks are listed as not checked")
    func selection() async throws {
        let configured = [
            ConfiguredCheck(id: .apiserverPing, settings: CheckSettings(), plan: .ready(FixedCheck(status: .ok))),
            ConfiguredCheck(id: .redisLatency, settings: CheckSettings(), plan: .ready(FixedCheck(status: .warning))),
            ConfiguredCheck(
                id: .mongoPing, settings: CheckSettings(enabled: false), plan: .ready(FixedCheck(status: .ok))),
            ConfiguredCheck(id: .ingressTLS, settings: CheckSettings(), plan: .notConfigured("plain HTTP")),
        ]
        let engine = Engine(loaded: LoadedConfig(config: ProbeConfig(), checks: configured))
        let data = await engine.run(selection: try Selection(tokens: ["data"]))
        #expect(data.results.map(\.key) == ["redis.latency"])
        #expect(data.notChecked.map(\.id) == [.mongoPing])
        #expect(data.status == .warning)
        let byID = await engine.run(selection: try Selection(tokens: ["apiserver.ping,ingress.tls"]))
        #expect(byID.results.map(\.key) == ["apiserver.ping"])
        #expect(byID.notChecked.first?.reason == "plain HTTP")
        #expect(throws: SelectionError.self) { try Selection(tokens: ["bogus"]) }
        let service = try Selection(tokens: ["redis"])
        #expect(CheckID.allCases.filter(service.includes) == [.redisLatency, .redisWrite, .redisStatus])
    }
}
