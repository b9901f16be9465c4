import Foundation
import NativeClients
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// The probe's sentinel document in MongoDB (`mongo.status`): written once, read every run, its loss after a mongod
/// that restarted on an empty data directory is a critical finding of MongoDB; `--read-only` never writes it. The real
/// libmongoc against mongo_double.py, one double per test (`restarted_empty` wipes it).
@Suite(.serialized)
struct MongoSentinelTests {
    static let id = "test:sentinel"

    @Test func anInsertEndsWrittenOrNamesWhyNot() {
        func failure(_ kind: MongoFailure.Kind, _ code: Int = 0, _ name: String? = nil) -> MongoFailure? {
            MongoFailure(kind: kind, step: "insert", code: code, codeName: name, message: "m")
        }
        let cases: [(MongoFailure?, MongoSentinel.Write)] = [
            (nil, .written),
            (failure(.writeConcern, 64, "WriteConcernFailed"), .written),  // on the primary, not yet on a majority
            (failure(.write, 11000, "DuplicateKey"), .written),  // another run inserted it meanwhile
            (failure(.write, 121, "DocumentValidationFailure"), .failed(code: "121 DocumentValidationFailure")),
            (failure(.server, 13, "Unauthorized"), .failed(code: "13 Unauthorized")),
            (failure(.server, 10107, "NotWritablePrimary"), .failed(code: "10107 NotWritablePrimary")),
            (failure(.timeout), .failed(code: "timeout")),
            (failure(.deadline), .failed(code: "no time left")),
        ]
        for (failure, expected) in cases {
            #expect(MongoSentinel.write(failure: failure) == expected, "\(String(describing: failure))")
        }
        #expect(MongoSentinel.found(.object(["found": .object(["_id": .string(Self.id)])]), id: Self.id))
        #expect(!MongoSentinel.found(.object([:]), id: Self.id))
        #expect(!MongoSentinel.found(.object(["found": .object(["_id": .string("other:sentinel")])]), id: Self.id))
    }

    static func check(_ double: PythonDouble, hold: Double = 3600) -> MongoStatusCheck {
        var check = MongoStatusCheck(store: MongoStore(uri: "mongodb://127.0.0.1:\(double.port("mongo"))/"))
        check.sentinelID = Self.id
        check.lossHold = hold
        return check
    }

    /// One run; a first run that got no serverStatus at all (the pooled connection was closed by a restart, which
    /// libmongoc finds out only on use, and drops) is followed by one more on a new connection, as the next cycle.
    func run(_ check: MongoStatusCheck, state: ProbeState, readOnly: Bool = false) async -> CheckResult {
        for attempt in 1...2 {
            let context = CheckContext(
                id: .mongoStatus, config: ProbeConfig(instance: "test"), settings: CheckSettings(timeout: 1),
                deadline: .now + .seconds(1), state: state, readOnly: readOnly)
            let result = await check.run(context)[0]
            if attempt == 1, result.status == .critical, result.metrics["uptime_seconds"] == nil { continue }
            return result
        }
        fatalError("unreachable")
    }

    static func sentinelInserts(_ double: PythonDouble) async throws -> [[String: Any]] {
        try await double.requests().filter { request in
            request["command"] as? String == "insert"
                && (request["documents"] as? [[String: Any]])?.contains { $0["_id"] as? String == Self.id } == true
        }
    }

    static func writes(_ double: PythonDouble) async throws -> [[String: Any]] {
        try await double.requests().filter {
            ["insert", "update", "delete", "createIndexes", "drop"].contains($0["command"] as? String ?? "")
        }
    }

    @Test func aMongoDBThatComesBackEmptyLostItsData() async throws {
        let double = try await offPool { try PythonDouble("mongo_double.py") }
        defer { double.stop() }
        let state = ProbeState()
        let check = Self.check(double, hold: 1)
        let first = await run(check, state: state)
        #expect(first.status == .ok && first.summary.contains("sentinel written"), "\(first.summary)")
        let insert = try #require(try await Self.sentinelInserts(double).first)
        #expect(insert["db"] as? String == "clearml_probe" && insert["collection"] as? String == "probe")
        let concern = try #require(insert["writeConcern"] as? [String: Any])
        #expect(concern["w"] as? String == "majority" && concern["j"] as? Bool == true, "\(concern)")
        let document = try #require((insert["documents"] as? [[String: Any]])?.first)
        #expect(
            document["createdAt"] == nil, "mongo.write's TTL index expires by createdAt: the sentinel must not have it")
        #expect(document["writtenAt"] != nil && document["instance"] as? String == "test", "\(document)")

        let second = await run(check, state: state)
        #expect(second.status == .ok && second.summary.contains("sentinel kept"), "\(second.summary)")
        #expect(second.metrics["sentinel_present"] == 1)
        #expect(try await Self.sentinelInserts(double).count == 1, "read every run, written once")

        // Down and back with its data (a restart that kept the volume): nothing is lost.
        try await double.control("/scenario", ["scenario": "down"])
        try await double.control("/scenario", ["scenario": "ok"])
        let healed = await run(check, state: state)
        #expect(healed.status == .ok && healed.summary.contains("sentinel kept"), "\(healed.summary)")

        // mongod restarted on an empty data directory.
        try await double.control("/scenario", ["scenario": "restarted_empty"])
        let lost = await run(check, state: state)
        #expect(lost.status == .critical, "\(lost.summary)")
        #expect(lost.summary.hasPrefix("MongoDB 127.0.0.1:\(double.port("mongo")) lost its data"), "\(lost.summary)")
        #expect(lost.hint?.contains("tasks") == true, "\(lost.hint ?? "")")
        #expect(lost.metrics["sentinel_present"] == 0)
        #expect(lost.id.service == .mongo && lost.dependsOn.isEmpty, "a root cause of MongoDB")
        #expect(try await Self.sentinelInserts(double).count == 2, "written again at once")
        let held = await run(check, state: state)
        #expect(held.status == .critical, "the loss is held so that it pages: \(held.summary)")
        #expect(try await Self.sentinelInserts(double).count == 2)
        try await Task.sleep(for: .milliseconds(1100))
        let over = await run(check, state: state)
        #expect(
            over.status == .ok && over.summary.contains("sentinel kept"), "resolved after the hold: \(over.summary)")
    }

    @Test func readOnlyReadsTheSentinelButNeverWritesIt() async throws {
        let double = try await offPool { try PythonDouble("mongo_double.py") }
        defer { double.stop() }
        let state = ProbeState()
        let check = Self.check(double)
        let blind = await run(check, state: state, readOnly: true)
        #expect(blind.status == .ok, "\(blind.summary)")
        #expect(blind.summary.contains("sentinel not written (--read-only)"), "\(blind.summary)")
        #expect(try await Self.writes(double).isEmpty, "--read-only sent no write")

        // Written by a normal run, then lost: a read-only run still sees the loss, and does not write it again.
        _ = await run(check, state: state)
        #expect(try await Self.sentinelInserts(double).count == 1)
        try await double.control("/scenario", ["scenario": "restarted_empty"])
        let lost = await run(check, state: state, readOnly: true)
        #expect(lost.status == .critical && lost.summary.contains("lost its data"), "\(lost.summary)")
        #expect(try await Self.sentinelInserts(double).count == 1, "--read-only never writes it again")
    }

    @Test func underReadOnlyTheEngineStillRunsMongoStatusAndItOnlyReads() async throws {
        let double = try await offPool { try PythonDouble("mongo_double.py") }
        defer { double.stop() }
        let yaml =
            "probe: {instance: e2e}\nmongo: {uri: \"mongodb://127.0.0.1:\(double.port("mongo"))/\"}\nchecks:\n  mongo.status: {}\n  mongo.write: {}\n"
        let loaded = try LoadedConfig.fromYAML(yaml)
        let report = await Engine(loaded: loaded).run(
            selection: Selection(ids: [.mongoStatus, .mongoWrite]), readOnly: true, state: ProbeState())
        let status = try #require(report.result("mongo.status"))
        #expect(
            status.status == .ok && status.summary.contains("sentinel not written (--read-only)"), "\(status.summary)")
        #expect(report.notChecked.contains { $0.id == .mongoWrite }, "mongo.write is skipped")
        let finds = try await double.requests().filter { $0["command"] as? String == "find" }
        #expect(
            finds.contains { ($0["filter"] as? [String: Any])?["_id"] as? String == "e2e:sentinel" },
            "the default config reads it")
        #expect(try await Self.writes(double).isEmpty, "nothing written under --read-only")
    }

    @Test func aSentinelThatCannotBeWrittenIsAWarningNeverALoss() async throws {
        let double = try await offPool { try PythonDouble("mongo_double.py") }
        defer { double.stop() }
        try await double.control(
            "/scenario",
            [
                "scenario": "ok",
                "errors": [
                    "insert": [
                        "code": 13, "codeName": "Unauthorized",
                        "errmsg": "not authorized on clearml_probe to execute command { insert: \"probe\" }",
                    ]
                ],
            ])
        let state = ProbeState()
        let check = Self.check(double)
        for _ in 1...2 {
            let result = await run(check, state: state)
            #expect(result.status == .warning, "\(result.summary)")
            #expect(
                result.summary.contains("sentinel could not be written") && result.summary.contains("13 Unauthorized"),
                "\(result.summary)")
        }
    }

    @Test func theDefaultConfigTurnsItOnAndItCanBeTurnedOff() throws {
        func plan(_ options: String) throws -> MongoStatusCheck? {
            try LoadedConfig.fromYAML(
                "probe: {instance: e2e}\nmongo: {uri: \"mongodb://127.0.0.1/\"}\nchecks:\n  mongo.status: \(options)\n"
            )
            .readyCheck(.mongoStatus)
        }
        #expect(try plan("{}")?.sentinelID == "e2e:sentinel")
        #expect(try plan("{}")?.lossHold == 3600)
        #expect(try plan("{sentinel: false, data_loss_hold: 10m}")?.sentinelID == nil)
        #expect(try plan("{data_loss_hold: 10m}")?.lossHold == 600)
    }
}
