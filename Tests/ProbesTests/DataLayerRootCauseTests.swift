import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// A result the test scripts, standing in for the apiserver checks of another issue.
struct ScriptedCheck: Check {
    var result: CheckResult
    func run(_ context: CheckContext) async -> [CheckResult] { [result] }
}

/// Data-layer failures found by the real checks, analysed by the engine together with apiserver results.
@Suite(.serialized)
struct DataLayerRootCauseTests {
    static func engine(_ checks: [(CheckID, any Check)]) -> Engine {
        Engine(
            loaded: LoadedConfig(
                config: ProbeConfig(instance: "test"),
                checks: checks.map {
                    ConfiguredCheck(id: $0.0, settings: CheckSettings(timeout: 1), plan: .ready($0.1))
                }))
    }

    static let apiserverFails = ScriptedCheck(
        result: CheckResult(
            id: .apiserverAuth, status: .critical,
            summary: "auth.login: 500 Internal server error"))
    static let apiserverWorks = ScriptedCheck(
        result: CheckResult(
            id: .apiserverAuth, status: .ok, summary: "login OK",
            provides: [.mongo, .redis]))

    @Test func aStoppedRedisIsTheRootCauseOfTheApiserversFailure() async throws {
        let store = RedisStore(host: "127.0.0.1", port: Ports.closed())
        let report = await Self.engine([
            (.redisLatency, RedisLatencyCheck(store: store)),
            (.redisWrite, RedisWriteCheck(store: store, instance: "test")),
            (.apiserverAuth, Self.apiserverFails),
        ]).run()
        #expect(report.status == .critical)
        #expect(report.rootCauses.contains("redis.latency"), "\(report.rootCauses)")
        #expect(!report.rootCauses.contains("apiserver.auth"))
        let auth = try #require(report.result("apiserver.auth"))
        #expect(auth.role == .symptom)
        #expect(auth.rootCause?.hasPrefix("redis.") == true)
    }

    @Test func aStoreTheProbeCannotReachButTheApiserverUsesIsUnreachableFromTheProbe() async throws {
        let store = RedisStore(host: "127.0.0.1", port: Ports.closed())
        let report = await Self.engine([
            (.redisLatency, RedisLatencyCheck(store: store)), (.apiserverAuth, Self.apiserverWorks),
        ]).run()
        let latency = try #require(report.result("redis.latency"))
        #expect(latency.role == .unreachableFromProbe)
        #expect(latency.status == .unknown)
        #expect(latency.summary.contains("unreachable from the probe"), "\(latency.summary)")
        #expect(report.rootCauses.isEmpty)
    }

    @Test func aWriteConcernErrorIsARootCauseEvenWhileTheApiserverWorks() async throws {
        let double = try await offPool {
            try PythonDouble("mongo_double.py", arguments: ["--scenario", "write_concern_error"])
        }
        defer { double.stop() }
        let store = MongoStore(uri: "mongodb://127.0.0.1:\(double.port("mongo"))/")
        let report = await Self.engine([
            (.mongoWrite, MongoWriteCheck(store: store, instance: "test")), (.apiserverAuth, Self.apiserverWorks),
        ]).run()
        let write = try #require(report.result("mongo.write"))
        #expect(write.status == .critical, "not durable is not 'unreachable': \(write.summary)")
        #expect(write.role == .rootCause)
        #expect(report.rootCauses == ["mongo.write"])
        #expect(report.status == .critical)
    }
}
