import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// A store that refuses connections is one root cause found in milliseconds: its other checks are symptoms, and none
/// waits out its deadline (libmongoc tries server selection once; the checks share one client).
@Suite("A data store that is down")
struct DataStoreDownTests {
    @Test("MongoDB refused: mongo.ping is the root cause, write and status its symptoms, all far within the deadline")
    func mongoRefused() async throws {
        let port = Ports.closed()
        let yaml = """
            probe:
              timeout: 2s
            mongo:
              uri: mongodb://127.0.0.1:\(port)/
            """
        let loaded = try LoadedConfig.fromYAML(yaml)
        let report = await Engine(loaded: loaded).run(
            selection: try Selection(tokens: ["mongo.ping", "mongo.write", "mongo.status"]))
        #expect(report.rootCauses == ["mongo.ping"])
        #expect(report.result("mongo.ping")?.summary.contains("connection refused") == true)
        #expect(report.result("mongo.write")?.rootCause == "mongo.ping")
        #expect(report.result("mongo.status")?.rootCause == "mongo.ping")
        #expect(report.durationMs < 1000, "a refused port is known at once, not after the 2 s deadline")
    }

    @Test("Redis refused: redis.latency is the root cause, write and status its symptoms")
    func redisRefused() async throws {
        let port = Ports.closed()
        let yaml = """
            probe:
              timeout: 2s
            redis:
              host: 127.0.0.1
              port: \(port)
            """
        let loaded = try LoadedConfig.fromYAML(yaml)
        let report = await Engine(loaded: loaded).run(
            selection: try Selection(tokens: ["redis.latency", "redis.write", "redis.status"]))
        #expect(report.rootCauses == ["redis.latency"])
        #expect(report.result("redis.write")?.rootCause == "redis.latency")
        #expect(report.result("redis.status")?.rootCause == "redis.latency")
        #expect(report.durationMs < 1000)
    }
}
