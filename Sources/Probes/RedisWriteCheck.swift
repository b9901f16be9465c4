import Foundation
import NativeClients
import ProbeCore

/// `redis.write`: SET (with a TTL) / GET / DEL of the probe's own key `clearml-probe:<instance>:write`. Error
/// replies are named: MISCONF, READONLY, OOM, LOADING, NOAUTH, WRONGPASS.
public struct RedisWriteCheck: Check {
    public var store: RedisStore
    public var key: String
    /// Seconds the key lives if the probe dies before its DEL.
    public var ttl: Int

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let ttl = try options.duration("key_ttl", default: 60, minimum: 1)
        guard let store = config.dataStores.redis else { return RedisStep.notConfigured() }
        return .ready(RedisWriteCheck(store: store, instance: config.instance, ttl: Int(ttl.rounded(.up))))
    }

    public init(store: RedisStore, instance: String, ttl: Int = 60) {
        self.store = store
        self.key = "clearml-probe:\(instance):write"
        self.ttl = ttl
    }

    /// An `Error` only so a step can hand its early end through `Result`.
    enum Outcome: Error {
        case done(timings: [String: Double], connectMs: Double?)
        case failure(RedisFailure, connectMs: Double?)
        case errorReply(String, command: String)
        case mismatch(String)
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .redisWrite)
        let (key, ttl) = (self.key, self.ttl)
        let value = "\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString)"
        let outcome = await RedisStep.connection(store).session(deadline: context.deadline) { session in
            Self.roundTrip(session, key: key, value: value, ttl: ttl)
        }
        switch outcome {
        case .failure(let failure, let connectMs):
            return [
                RedisStep.failure(
                    failure, store: store, context: context, builder: builder,
                    metrics: connectMs.map { ["connect_ms": $0] } ?? [:])
            ]
        case .errorReply(let message, let command):
            return [RedisStep.errorReply(message, command: command, context: context, builder: builder)]
        case .mismatch(let got):
            return [
                builder.result(
                    status: .critical, summary: "GET \(key) returned \(got), not the value just SET",
                    hint:
                        "Another client writes the probe's key (two probes with the same instance name?), or a proxy in front of Redis misroutes."
                )
            ]
        case .done(let timings, let connectMs):
            var metrics = timings
            if let connectMs { metrics["connect_ms"] = connectMs }
            let total = timings.values.reduce(0, +)
            let summary = "SET/GET/DEL of \(key) in \(DecimalText.fixed(total, places: 2)) ms"
            if total / 1000 > context.settings.slowWarning {
                return [
                    builder.result(
                        status: .warning, summary: "slow: \(summary)", hint: "See redis.latency and the Redis SLOWLOG.",
                        metrics: metrics)
                ]
            }
            return [builder.result(status: .ok, summary: summary, metrics: metrics)]
        }
    }

    /// Runs on the connection's queue. The key is deleted even when GET disagrees.
    static func roundTrip(_ session: RedisSession, key: String, value: String, ttl: Int) -> Outcome {
        var connectMs: Double?
        switch session.connect() {
        case .failure(let failure): return .failure(failure, connectMs: nil)
        case .success(let info): connectMs = info.fresh ? info.milliseconds : nil
        }
        var timings: [String: Double] = [:]
        func send(_ arguments: [String], metric: String) -> Result<RedisReply, Outcome> {
            switch session.timedCommand(arguments) {
            case .failure(let failure): return .failure(.failure(failure, connectMs: connectMs))
            case .success((.error(let message), _)): return .failure(.errorReply(message, command: arguments[0]))
            case .success((let reply, let seconds)):
                timings[metric] = seconds * 1000
                return .success(reply)
            }
        }
        if case .failure(let outcome) = send(["SET", key, value, "EX", String(ttl)], metric: "set_ms") {
            return outcome
        }
        let got: RedisReply
        switch send(["GET", key], metric: "get_ms") {
        case .failure(let outcome): return outcome
        case .success(let reply): got = reply
        }
        if case .failure(let outcome) = send(["DEL", key], metric: "del_ms") { return outcome }
        guard got.text == value else {
            return .mismatch(got == .null ? "nothing" : "'\(Evidence.excerpt(got.text ?? "?", limit: 60))'")
        }
        return .done(timings: timings, connectMs: connectMs)
    }
}
