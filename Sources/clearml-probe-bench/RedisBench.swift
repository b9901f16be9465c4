import ArgumentParser
import Foundation
import NativeClients
import ProbeCore
import Probes
import TestSupport

/// `redis`: `redis.latency` on a local redis-server against `redis-cli --latency` (same server, same 10 ms
/// sampling) and a bare hiredis loop. Targets: within ±20 % of redis-cli, at most 1.1× the bare loop.
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis", abstract: "redis.latency vs redis-cli --latency and a raw hiredis loop.")

    @Option(help: "PINGs per side per round.")
    var count = 200

    @Option(help: "Rounds (the three sides alternate; medians across rounds are printed).")
    var rounds = 3

    @Option(help: "Milliseconds between PINGs (redis-cli --latency samples every 10 ms).")
    var intervalMs = 10.0

    func run() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let interval = intervalMs / 1000
        let store = RedisStore(host: "127.0.0.1", port: server.port)
        let check = RedisLatencyCheck(store: store, pings: count, interval: interval, p99Warning: 10)
        let timeout = Double(count) * (interval + 0.005) + 5
        _ = RedisBaseline.pingLatencies(host: "127.0.0.1", port: server.port, count: 50, interval: 0)

        var probeP50: [Double] = []
        var probeMean: [Double] = []
        var rawP50: [Double] = []
        var rawMean: [Double] = []
        var cliAvg: [Double] = []
        for round in 1...rounds {
            let context = CheckContext(
                id: .redisLatency, config: ProbeConfig(), settings: CheckSettings(timeout: timeout),
                deadline: .now + .seconds(timeout), state: ProbeState())
            let result = await check.run(context)[0]
            guard result.status == .ok, let p50 = result.metrics["p50_ms"], let mean = result.metrics["mean_ms"] else {
                throw ValidationError("redis.latency did not succeed: \(result.summary)")
            }
            probeP50.append(p50)
            probeMean.append(mean)

            guard
                let raw = RedisBaseline.pingLatencies(
                    host: "127.0.0.1", port: server.port, count: count, interval: interval),
                let summary = LatencySummary(raw.map { $0 * 1000 })
            else { throw ValidationError("the raw hiredis loop failed") }
            rawP50.append(summary.p50)
            rawMean.append(summary.mean)

            let cli = try redisCLILatency(port: server.port, seconds: Double(count) * (interval + 0.0025))
            cliAvg.append(cli.avg)
            print(
                String(
                    format:
                        "round %d: redis.latency p50 %.3f mean %.3f | raw hiredis p50 %.3f mean %.3f | redis-cli avg %.2f (%d samples, min %.0f max %.0f) ms",
                    round, p50, mean, summary.p50, summary.mean, cli.avg, cli.count, cli.min, cli.max))
        }
        let p50 = median(probeP50)
        let mean = median(probeMean)
        let raw = median(rawP50)
        let rawAvg = median(rawMean)
        let cli = median(cliAvg)
        print(
            "redis.latency vs redis-cli --latency and a raw hiredis loop, \(count) PINGs every \(intervalMs) ms, median of \(rounds) rounds (ms)"
        )
        print("  redis.latency  p50 \(format(p50))  mean \(format(mean))")
        print("  raw hiredis    p50 \(format(raw))  mean \(format(rawAvg))")
        print(
            "  redis-cli      avg \(String(format: "%.2f", cli))  (it times each PING with a 1 ms clock: only its mean over many samples is comparable)"
        )
        print(String(format: "  p50 / raw p50      %.3f  (target ≤ 1.10)", p50 / raw))
        print(String(format: "  mean / redis-cli   %.3f  (target 0.80–1.20)", mean / cli))
        print(
            String(
                format:
                    "  p50 / redis-cli    %.3f  (a median against a mean of a right-skewed sample: for information)",
                p50 / cli))
    }

    /// Runs `redis-cli --latency` without a terminal: it samples every 10 ms for `-i` seconds, then prints
    /// `min max avg count` once and exits.
    func redisCLILatency(port: Int, seconds: Double) throws -> (min: Double, max: Double, avg: Double, count: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-h", "127.0.0.1", "-p", String(port), "--latency", "-i", String(format: "%.2f", seconds)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap
        { Double($0) }
        guard fields.count >= 4 else {
            throw ValidationError("cannot read redis-cli --latency output: \(String(decoding: data, as: UTF8.self))")
        }
        return (
            fields[fields.count - 4], fields[fields.count - 3], fields[fields.count - 2], Int(fields[fields.count - 1])
        )
    }
}
