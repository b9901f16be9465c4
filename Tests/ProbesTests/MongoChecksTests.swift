import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

@testable import Probes

/// The three MongoDB checks: the real libmongoc against mongo_double.py (MockupDB) scenarios.
@Suite(.serialized)
struct MongoChecksTests {
    static let double: PythonDouble = try! PythonDouble("mongo_double.py")

    /// A URI of its own per test (the path is only the auth database), so each test starts on a fresh client.
    static func store(_ name: String, port: Int? = nil) -> MongoStore {
        MongoStore(uri: "mongodb://127.0.0.1:\(port ?? double.port("mongo"))/\(name)")
    }

    static func scenario(_ body: [String: Any]) async throws {
        _ = try await offPool { Self.double }  // started off the pool (see `offPool`)
        try await double.control("/reset", [:])
        try await double.control("/scenario", body)
    }

    static func commands(_ name: String) async throws -> [[String: Any]] {
        try await double.requests().filter { ($0["command"] as? String) == name }
    }

    @Test func healthyStandaloneAndTheCommandsTheProbeSends() async throws {
        try await Self.scenario(["scenario": "ok"])
        let store = Self.store("healthy")
        let ping = await runCheck(MongoPingCheck(store: store), .mongoPing)
        #expect(ping.result.status == .ok, "\(ping.result.summary)")
        #expect(ping.result.summary.contains("standalone"))
        #expect(ping.result.metrics["ping_ms"] != nil)

        let write = await runCheck(MongoWriteCheck(store: store, instance: "test", wtimeoutMs: 800), .mongoWrite)
        #expect(write.result.status == .ok, "\(write.result.summary)")

        let status = await runCheck(MongoStatusCheck(store: store), .mongoStatus)
        #expect(status.result.status == .ok, "\(status.result.summary)")
        #expect(status.result.summary.contains("MongoDB 7.0.22"))
        #expect(status.result.metrics["disk_free_percent"] == 60)
        #expect(status.result.metrics["uptime_seconds"] ?? 0 > 4 * 86400)

        let handshake = try await Self.double.requests().first {
            ["isMaster", "ismaster", "hello"].contains($0["command"] as? String ?? "")
        }
        let application =
            ((handshake?["doc"] as? [String: Any])?["client"] as? [String: Any])?["application"] as? [String: Any]
        #expect(application?["name"] as? String == "clearml-probe", "appname so operators see who it is")

        let insert = try #require(try await Self.commands("insert").first)
        #expect(insert["db"] as? String == "clearml_probe")
        #expect(insert["collection"] as? String == "probe")
        let concern = try #require(insert["writeConcern"] as? [String: Any])
        #expect(concern["w"] as? String == "majority")
        #expect(concern["j"] as? Bool == true)
        #expect((concern["wtimeout"] as? Int).map { $0 > 0 && $0 <= 800 } == true, "\(concern)")
        let inserted = try #require((insert["documents"] as? [[String: Any]])?.first?["_id"] as? String)
        #expect(inserted.hasPrefix("test:"))

        let find = try #require(try await Self.commands("find").first)
        #expect((find["filter"] as? [String: Any])?["_id"] as? String == inserted)
        let delete = try #require(try await Self.commands("delete").first)
        #expect(delete["db"] as? String == "clearml_probe")
        #expect(delete["collection"] as? String == "probe")
        let deletes = try #require(delete["deletes"] as? [[String: Any]])
        #expect((deletes.first?["q"] as? [String: Any])?["_id"] as? String == inserted)
        #expect(deletes.first?["limit"] as? Int == 1, "delete_one, never a multi-delete")
        #expect((delete["writeConcern"] as? [String: Any])?["w"] as? String == "majority")

        let index = try #require(try await Self.commands("createIndexes").first)
        #expect(index["db"] as? String == "clearml_probe")
        let spec = try #require((index["indexes"] as? [[String: Any]])?.first)
        #expect(spec["expireAfterSeconds"] as? Int == 3600)

        let writes = try await Self.double.requests().filter {
            ["insert", "delete", "update", "createIndexes", "drop"].contains($0["command"] as? String ?? "")
        }
        #expect(writes.allSatisfy { $0["db"] as? String == "clearml_probe" }, "writes only to the probe's database")

        _ = await runCheck(MongoWriteCheck(store: store, instance: "test"), .mongoWrite)
        #expect(try await Self.commands("createIndexes").count == 1, "the TTL index is created once per connection")
    }

    @Test func writeConcernErrorIsNeverOK() async throws {
        try await Self.scenario(["scenario": "write_concern_error"])
        let (result, _) = await runCheck(MongoWriteCheck(store: Self.store("wce"), instance: "test"), .mongoWrite)
        #expect(result.status == .critical)
        #expect(result.summary.contains("not durable"), "\(result.summary)")
        #expect(result.summary.contains("64 WriteConcernFailed"), "\(result.summary)")
        #expect(try await Self.commands("delete").count == 1, "the document written anyway is deleted")
    }

    @Test func secondaryGivesNotWritablePrimary() async throws {
        try await Self.scenario(["scenario": "not_primary"])
        let store = Self.store("secondary")
        let write = await runCheck(MongoWriteCheck(store: store, instance: "test"), .mongoWrite)
        #expect(write.result.status == .critical)
        #expect(write.result.summary.contains("10107 NotWritablePrimary"), "\(write.result.summary)")
        let ping = await runCheck(MongoPingCheck(store: store), .mongoPing)
        #expect(ping.result.status == .warning)
        #expect(ping.result.summary.contains("secondary of replica set rs0"), "\(ping.result.summary)")
    }

    @Test func unauthorizedMeansTheProbeIsBlind() async throws {
        try await Self.scenario(["scenario": "unauthorized"])
        let store = Self.store("unauthorized")
        let write = await runCheck(MongoWriteCheck(store: store, instance: "test"), .mongoWrite)
        #expect(write.result.status == .unknown)
        #expect(write.result.summary.contains("13 Unauthorized"), "\(write.result.summary)")
        let status = await runCheck(MongoStatusCheck(store: store), .mongoStatus)
        #expect(status.result.status == .unknown, "\(status.result.summary)")
    }

    @Test func hangAfterTheHandshakeEndsWithinTheDeadline() async throws {
        try await Self.scenario(["scenario": "hang"])
        let (result, seconds) = await runCheck(MongoPingCheck(store: Self.store("hang")), .mongoPing, timeout: 0.7)
        #expect(result.status == .critical)
        #expect(result.summary.contains("did not answer ping"), "\(result.summary)")
        #expect(!result.reachabilityFailure)
        #expect(seconds < 0.7 + 0.5)
        try await Self.double.control("/reset", [:])
    }

    @Test func refusedIsAReachabilityFailureWithinTheDeadline() async throws {
        try await Self.scenario(["scenario": "ok"])
        let (result, seconds) = await runCheck(
            MongoPingCheck(store: Self.store("refused", port: Ports.closed())), .mongoPing, timeout: 0.7)
        #expect(result.status == .critical)
        #expect(result.summary.contains("connection refused"), "\(result.summary)")
        #expect(result.reachabilityFailure)
        #expect(seconds < 0.7 + 0.5)
    }

    @Test func nameThatDoesNotResolveIsBounded() async throws {
        let store = MongoStore(uri: "mongodb://no-such-host.invalid:27017/")
        let (result, seconds) = await runCheck(MongoPingCheck(store: store), .mongoPing, timeout: 0.7)
        #expect(result.status == .critical)
        #expect(result.summary.contains("resolve"), "\(result.summary)")
        #expect(result.reachabilityFailure)
        #expect(seconds < 0.7 + 0.5)
    }

    @Test(arguments: [
        (["scenario": "replset_lag"] as [String: any Sendable], Status.critical, "lags 30 s behind the primary"),
        (["scenario": "replset", "unhealthy_member": true], .critical, "member unreachable"),
        (["scenario": "connections_high"], .warning, "850 connections in use"),
        (["scenario": "disk_low"], .critical, "2.0 GB free"),
    ])
    func statusFaults(scenario: [String: any Sendable], expected: Status, words: String) async throws {
        try await Self.scenario(scenario)
        let (result, _) = await runCheck(MongoStatusCheck(store: Self.store("status")), .mongoStatus)
        #expect(result.status == expected, "\(result.summary)")
        #expect(result.summary.contains(words), "\(result.summary)")
    }

    @Test func restartSincePreviousSampleIsAWarning() async throws {
        try await Self.scenario(["scenario": "ok"])
        let state = ProbeState()
        let store = Self.store("restart")
        #expect(await runCheck(MongoStatusCheck(store: store), .mongoStatus, state: state).result.status == .ok)
        try await Self.double.control("/scenario", ["scenario": "restart", "uptime_s": 5])
        let after = await runCheck(MongoStatusCheck(store: store), .mongoStatus, state: state)
        #expect(after.result.status == .warning, "\(after.result.summary)")
        #expect(after.result.summary.contains("restarted"))
    }

    @Test func passwordInTheURIIsNeverPrinted() async throws {
        try await Self.scenario(["scenario": "ok"])
        let store = MongoStore(uri: "mongodb://probe:pa55-word@127.0.0.1:\(Ports.closed())/")
        var config = ProbeConfig(instance: "test")
        config.dataStores.mongo = store
        config.secrets += config.dataStores.secrets
        let (result, _) = await runCheck(MongoPingCheck(store: store), .mongoPing, timeout: 0.5, config: config)
        let printed = [result.summary, result.error ?? "", result.hint ?? "", result.evidence ?? ""].joined(
            separator: " ")
        #expect(!printed.contains("pa55-word"), "\(printed)")
        #expect(result.summary.contains("127.0.0.1"))
    }
}
