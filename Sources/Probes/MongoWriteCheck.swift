import Foundation
import NativeClients
import ProbeCore

/// `mongo.write`: insert, read back and delete one document in the probe's own database `clearml_probe`
/// (collection `probe`) with `writeConcern {w: "majority", j: true, wtimeout}`. A TTL index, created once per
/// connection, removes what a dying probe leaves behind. A `writeConcernError` is never OK: the write happened but
/// was not as durable as asked.
public struct MongoWriteCheck: Check {
    public var store: MongoStore
    public var instance: String
    /// Milliseconds the server may wait for the write concern.
    public var wtimeoutMs: Int
    /// Seconds after which the TTL index removes a left-over document.
    public var ttl: Int

    static let ttlIndex = "clearml_probe_ttl"

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let wtimeout = try options.duration("wtimeout", default: 1, minimum: 0.001)
        let ttl = try options.duration("ttl", default: 3600, minimum: 60)
        guard let store = config.dataStores.mongo else { return MongoStep.notConfigured() }
        return .ready(
            MongoWriteCheck(
                store: store, instance: config.instance, wtimeoutMs: Int((wtimeout * 1000).rounded()), ttl: Int(ttl)))
    }

    public init(store: MongoStore, instance: String, wtimeoutMs: Int = 1000, ttl: Int = 3600) {
        self.store = store
        self.instance = instance
        self.wtimeoutMs = wtimeoutMs
        self.ttl = ttl
    }

    struct Outcome: Sendable {
        var timings: [String: Double] = [:]
        var failure: MongoFailure?
        var what = ""
        /// The document read back did not match (or was missing).
        var readBack: String?
        var deleted: Int?
        var indexFailure: MongoFailure?
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .mongoWrite)
        let id = "\(instance):\(UUID().uuidString)"
        let document = #"{"_id": "\#(id)", "instance": "\#(instance)", "createdAt": \#(MongoDates.json(Date()))}"#
        let filter = #"{"_id": "\#(id)"}"#
        let concern = MongoWriteConcern(wtimeoutMs: min(wtimeoutMs, max(1, Int(context.remaining * 1000))))
        let index =
            #"{"createIndexes": "\#(MongoStep.collection)", "indexes": [{"key": {"createdAt": 1}, "name": "\#(Self.ttlIndex)", "expireAfterSeconds": \#(ttl)}]}"#
        let (database, collection) = (MongoStep.database, MongoStep.collection)

        let outcome = await MongoStep.connection(store, context).session(deadline: context.deadline) {
            session -> Outcome in
            var outcome = Outcome()
            if !session.once("ttl-index") {
                if case .failure(let failure) = session.command(index, database: database, step: "createIndexes") {
                    session.forget("ttl-index")
                    outcome.indexFailure = failure
                    if failure.kind != .server {  // no reply at all: the insert would fail the same way
                        outcome.failure = failure
                        outcome.what = "creating the probe's TTL index"
                        return outcome
                    }
                }
            }
            switch session.insertOne(
                database: database, collection: collection, document: document, writeConcern: concern)
            {
            case .success(let reply): outcome.timings["insert_ms"] = reply.seconds * 1000
            case .failure(let failure):
                outcome.failure = failure
                outcome.what = "the probe's insert into \(database).\(collection)"
                // Not durable as asked, but written: delete it (best effort) so nothing is left.
                if failure.kind == .writeConcern {
                    _ = session.deleteOne(
                        database: database, collection: collection, filter: filter, writeConcern: concern)
                }
                return outcome
            }
            switch session.findOne(database: database, collection: collection, filter: filter) {
            case .success(let reply):
                outcome.timings["find_ms"] = reply.seconds * 1000
                if reply.value["found"]?["_id"]?.string != id {
                    outcome.readBack = reply.value["found"] == nil ? "nothing" : "another document"
                }
            case .failure(let failure):
                outcome.failure = failure
                outcome.what = "reading the probe's document back"
            }
            switch session.deleteOne(database: database, collection: collection, filter: filter, writeConcern: concern)
            {
            case .success(let reply):
                outcome.timings["delete_ms"] = reply.seconds * 1000
                outcome.deleted = reply.value["deletedCount"]?.int
            case .failure(let failure):
                if outcome.failure == nil {
                    outcome.failure = failure
                    outcome.what = "the probe's delete from \(database).\(collection)"
                }
            }
            return outcome
        }
        let metrics = outcome.timings
        if let failure = outcome.failure {
            return [
                MongoStep.failure(
                    failure, what: outcome.what, store: store, context: context, builder: builder, metrics: metrics)
            ]
        }
        if let readBack = outcome.readBack {
            return [
                builder.result(
                    status: .critical, summary: "the insert was acknowledged but reading it back found \(readBack)",
                    hint: "Reads may go to a lagging secondary or the write was lost: see mongo.status.",
                    metrics: metrics)
            ]
        }
        let total = metrics.values.reduce(0, +)
        let summary =
            "insert/find/delete in \(database).\(collection) with w:majority, j:true in \(DecimalText.fixed(total, places: 1)) ms"
        if let indexFailure = outcome.indexFailure {
            return [
                builder.result(
                    status: .warning,
                    summary: "\(summary), but the TTL index could not be created: \(MongoStep.codeWords(indexFailure))",
                    hint:
                        "Allow the probe's user createIndex on clearml_probe, or left-over probe documents are never expired.",
                    metrics: metrics, error: context.redact(indexFailure.description))
            ]
        }
        if total / 1000 > context.settings.slowWarning {
            return [
                builder.result(
                    status: .warning, summary: "slow: \(summary)",
                    hint: "Durable writes are slow: journal disk, replica lag (mongo.status).", metrics: metrics)
            ]
        }
        return [builder.result(status: .ok, summary: summary, metrics: metrics)]
    }
}
