import Foundation
import NativeClients
import ProbeCore

/// `redis.latency`: N PINGs on the probe's persistent connection, sampled like `redis-cli --latency` (one every
/// 10 ms by default), give p50, p99 and max. Only the round trip inside hiredis is timed.
public struct RedisLatencyCheck: Check {
    public var store: RedisStore
    public var pings: Int
    /// Seconds between PINGs.
    public var interval: Double
    /// p99 above this is a warning.
    public var p99Warning: Double

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let pings = try options.int("pings", default: 20, range: 1...10_000)
        let interval = try options.duration("sample_interval", default: 0.01)
        let p99Warning = try options.duration("p99_warning", default: 0.1, minimum: 0.0001)
        guard let store = config.dataStores.redis else { return RedisStep.notConfigured() }
        return .ready(RedisLatencyCheck(store: store, pings: pings, interval: interval, p99Warning: p99Warning))
    }

    public init(store: RedisStore, pings: Int = 20, interval: Double = 0.01, p99Warning: Double = 0.1) {
        self.store = store
        self.pings = pings
        self.interval = interval
        self.p99Warning = p99Warning
    }

    struct Outcome: Sendable {
        var samples: [Double] = []
        var connect: RedisConnectInfo?
        var failure: RedisFailure?
        var errorReply: String?
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .redisLatency)
        let (pings, interval) = (self.pings, self.interval)
        let outcome = await RedisStep.connection(store).session(deadline: context.deadline) { session in
            Self.sample(session, pings: pings, interval: interval)
        }
        var metrics: [String: Double] = [:]
        if let connect = outcome.connect, connect.fresh { metrics["connect_ms"] = connect.milliseconds }
        if let failure = outcome.failure {
            return [RedisStep.failure(failure, store: store, context: context, builder: builder, metrics: metrics)]
        }
        if let message = outcome.errorReply {
            return [
                RedisStep.errorReply(message, command: "PING", context: context, builder: builder, metrics: metrics)
            ]
        }
        guard let summary = LatencySummary(outcome.samples.map { $0 * 1000 }) else {
            return [
                builder.result(status: .critical, summary: "no PING completed within the deadline", metrics: metrics)
            ]
        }
        metrics["p50_ms"] = summary.p50
        metrics["p99_ms"] = summary.p99
        metrics["max_ms"] = summary.max
        metrics["mean_ms"] = summary.mean
        metrics["pings"] = Double(summary.count)
        let numbers =
            "p50 \(DecimalText.fixed(summary.p50, places: 2)) ms, p99 \(DecimalText.fixed(summary.p99, places: 2)) ms, max \(DecimalText.fixed(summary.max, places: 2)) ms over \(summary.count) PINGs"
        if summary.p99 / 1000 > p99Warning {
            return [
                builder.result(
                    status: .warning, summary: "slow: \(numbers) (p99 above \(Durations.format(seconds: p99Warning)))",
                    hint:
                        "Redis is blocked now and then: look at SLOWLOG, latency of saves (fork), swapping, or a noisy neighbour.",
                    metrics: metrics)
            ]
        }
        if summary.count < pings {
            return [
                builder.result(
                    status: .warning,
                    summary: "only \(summary.count) of \(pings) PINGs fit in the deadline: \(numbers)",
                    hint: "Give redis.latency a longer timeout, or fewer pings.", metrics: metrics)
            ]
        }
        return [builder.result(status: .ok, summary: numbers, metrics: metrics)]
    }

    /// Runs on the connection's queue: connect, then PING every `interval` while time is left.
    static func sample(_ session: RedisSession, pings: Int, interval: Double) -> Outcome {
        var outcome = Outcome()
        switch session.connect() {
        case .failure(let failure):
            outcome.failure = failure
            return outcome
        case .success(let info): outcome.connect = info
        }
        for index in 0..<pings {
            if index > 0 {
                // Leave room for one more round trip after the pause; stop early rather than overrun.
                guard session.remaining > interval + 0.05 else { break }
                if interval > 0 { usleep(useconds_t(interval * 1_000_000)) }
            }
            switch session.timedCommand(["PING"]) {
            case .failure(let failure):
                outcome.failure = failure
                return outcome
            case .success((.error(let message), _)):
                outcome.errorReply = message
                return outcome
            case .success((_, let seconds)):
                outcome.samples.append(seconds)
            }
        }
        return outcome
    }
}
