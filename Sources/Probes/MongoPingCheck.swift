import Foundation
import NativeClients
import ProbeCore

/// `mongo.ping`: the `ping` round trip on the probe's persistent client, and the role `hello` reports.
public struct MongoPingCheck: Check {
    public var store: MongoStore

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        guard let store = config.dataStores.mongo else { return MongoStep.notConfigured() }
        return .ready(MongoPingCheck(store: store))
    }

    public init(store: MongoStore) { self.store = store }

    struct Outcome: Sendable {
        var connectMs: Double?
        var pingMs: Double = 0
        var hello: JSONValue?
        var failure: MongoFailure?
        var what = "ping"
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .mongoPing)
        let outcome = await MongoStep.connection(store, context).session(deadline: context.deadline) {
            session -> Outcome in
            var outcome = Outcome()
            switch session.command(#"{"ping": 1}"#, database: "admin", step: "ping") {
            case .failure(let failure):
                outcome.failure = failure
                return outcome
            case .success(let reply):
                outcome.pingMs = reply.seconds * 1000
                if reply.freshClient {
                    // The first call paid for connecting and the handshake: time a second ping for the round trip.
                    outcome.connectMs = reply.seconds * 1000
                    if case .success(let again) = session.command(#"{"ping": 1}"#, database: "admin", step: "ping") {
                        outcome.pingMs = again.seconds * 1000
                    }
                }
            }
            outcome.what = "hello"
            switch session.command(#"{"hello": 1}"#, database: "admin", step: "hello") {
            case .failure(let failure): outcome.failure = failure
            case .success(let reply): outcome.hello = reply.value
            }
            return outcome
        }
        var metrics = ["ping_ms": outcome.pingMs]
        if let connectMs = outcome.connectMs { metrics["connect_ms"] = connectMs }
        if let failure = outcome.failure {
            if outcome.what == "ping" { metrics.removeValue(forKey: "ping_ms") }
            return [
                MongoStep.failure(
                    failure, what: outcome.what, store: store, context: context, builder: builder, metrics: metrics)
            ]
        }
        let hello = outcome.hello ?? .object([:])
        let writable = hello["isWritablePrimary"]?.bool ?? hello["ismaster"]?.bool ?? false
        let setName = hello["setName"]?.string
        if let wire = hello["maxWireVersion"]?.double { metrics["max_wire_version"] = wire }
        metrics["writable_primary"] = writable ? 1 : 0
        let role: String
        if let setName {
            role =
                writable
                ? "primary of replica set \(setName)"
                : "\(hello["secondary"]?.bool == true ? "secondary" : "non-primary member") of replica set \(setName) (primary: \(hello["primary"]?.string ?? "none"))"
        } else {
            role = writable ? "standalone" : "standalone that is not writable"
        }
        let numbers = "ping \(DecimalText.fixed(outcome.pingMs, places: 2)) ms"
        if !writable {
            return [
                builder.result(
                    status: .warning,
                    summary: "\(numbers), but connected to a \(role): ClearML's writes need the primary",
                    hint:
                        "Point ClearML and the probe at the replica set (replicaSet=… in the connection string) or fix the election.",
                    metrics: metrics)
            ]
        }
        if outcome.pingMs / 1000 > context.settings.slowWarning {
            return [
                builder.result(
                    status: .warning, summary: "slow: \(numbers) (\(role))",
                    hint: "MongoDB is overloaded; see mongo.status.", metrics: metrics)
            ]
        }
        return [builder.result(status: .ok, summary: "\(numbers), \(role)", metrics: metrics)]
    }
}
