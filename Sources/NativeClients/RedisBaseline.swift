import CHiredis
import Foundation

/// The reference the benchmark compares `redis.latency` with: a bare hiredis loop on the calling thread (no
/// queue, no session, no reconnect logic), PING every `interval`, each round trip timed around `redisCommandArgv`.
/// Not used by any check.
public enum RedisBaseline {
    public static func pingLatencies(host: String, port: Int, count: Int, interval: Double) -> [Double]? {
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(tv_sec: 2, tv_usec: 0)) else {
            return nil
        }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { return nil }
        var samples: [Double] = []
        samples.reserveCapacity(count)
        let ping = strdup("PING")
        defer { free(ping) }
        var argv: [UnsafePointer<CChar>?] = [UnsafePointer(ping)]
        let lengths = [4]
        for index in 0..<count {
            if index > 0, interval > 0 { usleep(useconds_t(interval * 1_000_000)) }
            var start = timespec()
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let reply = redisCommandArgv(context, 1, &argv, lengths)
            clock_gettime(CLOCK_MONOTONIC, &end)
            guard let reply else { return nil }
            freeReplyObject(reply)
            samples.append(Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
        }
        return samples
    }
}
