import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

@testable import Probes

/// The three Redis checks against Debian's redis-server, healthy and with each fault a Redis check must name (docs/data-stores.md, "Redis").
@Suite(.serialized)
struct RedisChecksTests {
    static let healthy: RedisServer = try! RedisServer()

    /// Starts the shared server off the pool (see `offPool`) before a test touches it.
    static func warm() async throws { _ = try await offPool { Self.healthy } }

    static func store(_ port: Int, password: String? = nil, username: String? = nil) -> RedisStore {
        RedisStore(host: "127.0.0.1", port: port, username: username, password: password.map(Secret.init))
    }

    @Test func healthyRedisIsOKOnAllThreeChecks() async throws {
        try await Self.warm()
        let store = Self.store(Self.healthy.port)
        let latency = await runCheck(RedisLatencyCheck(store: store), .redisLatency)
        #expect(latency.result.status == .ok, "\(latency.result.summary)")
        #expect(latency.result.summary.contains("p50"))
        #expect(latency.result.metrics["pings"] == 20)
        #expect((latency.result.metrics["p99_ms"] ?? 99) < 50)

        let write = await runCheck(RedisWriteCheck(store: store, instance: "test"), .redisWrite)
        #expect(write.result.status == .ok, "\(write.result.summary)")
        #expect(
            await redisAdmin(Self.healthy.port, ["EXISTS", "clearml-probe:test:write"]) == .integer(0),
            "the probe's key is deleted")

        let status = await runCheck(RedisStatusCheck(store: store), .redisStatus)
        #expect(status.result.status == .ok, "\(status.result.summary)")
        #expect(status.result.summary.contains("Redis 7"))
        #expect(status.result.metrics["maxclients"] != nil)
        #expect(status.result.metrics["uptime_seconds"] != nil)

        let clients = await redisAdmin(Self.healthy.port, ["CLIENT", "LIST"])?.text ?? ""
        #expect(clients.contains("name=clearml-probe"), "CLIENT SETNAME so operators see who it is")
        #expect(
            clients.components(separatedBy: "name=clearml-probe ").count - 1 == 1,
            "one persistent connection for the three checks")
    }

    @Test func stoppedRedisIsAReachabilityFailure() async throws {
        try await Self.warm()
        let server = try await offPool { try RedisServer() }
        let store = Self.store(server.port)
        #expect(await runCheck(RedisLatencyCheck(store: store), .redisLatency).result.status == .ok)
        server.stop()
        for (check, id) in [
            (RedisLatencyCheck(store: store) as any Check, CheckID.redisLatency),
            (RedisWriteCheck(store: store, instance: "test"), .redisWrite),
            (RedisStatusCheck(store: store), .redisStatus),
        ] {
            let (result, seconds) = await runCheck(check, id)
            #expect(result.status == .critical, "\(id): \(result.summary)")
            #expect(result.summary.contains("connection refused"), "\(result.summary)")
            #expect(result.reachabilityFailure)
            #expect(seconds < 1.5)
        }
    }

    @Test func passwordsAndACLUsers() async throws {
        try await Self.warm()
        let server = try await offPool { try RedisServer(arguments: ["--requirepass", "s3cret-pass"]) }
        defer { server.stop() }
        let wrong = await runCheck(
            RedisLatencyCheck(store: Self.store(server.port, password: "not-the-password")), .redisLatency,
            config: ProbeConfig(instance: "test", secrets: [Secret("not-the-password")]))
        #expect(wrong.result.status == .unknown, "the probe is blind, Redis is not proven down")
        #expect(wrong.result.summary.contains("WRONGPASS"), "\(wrong.result.summary)")
        #expect(!(wrong.result.error ?? "").contains("not-the-password"))

        let none = await runCheck(RedisWriteCheck(store: Self.store(server.port), instance: "test"), .redisWrite)
        #expect(none.result.status == .unknown)
        #expect(none.result.summary.contains("NOAUTH"), "\(none.result.summary)")

        let right = await runCheck(
            RedisWriteCheck(store: Self.store(server.port, password: "s3cret-pass"), instance: "test"), .redisWrite)
        #expect(right.result.status == .ok, "\(right.result.summary)")

        _ = await redisAdmin(
            server.port, ["ACL", "SETUSER", "probe", "on", ">probe-pass", "~clearml-probe:*", "+@all"],
            password: "s3cret-pass")
        let acl = await runCheck(
            RedisWriteCheck(
                store: Self.store(server.port, password: "probe-pass", username: "probe"), instance: "test"),
            .redisWrite)
        #expect(acl.result.status == .ok, "\(acl.result.summary)")
    }

    @Test func slowRedisIsAWarningAndAHungOneATimeout() async throws {
        try await Self.warm()
        let store = Self.store(Self.healthy.port)
        _ = await runCheck(RedisLatencyCheck(store: store), .redisLatency)  // connected
        // 50 PINGs 30 ms apart: a window of 1.5 s, so the sleep lands inside it also when the admin's command is
        // late on a loaded machine (the default 20 PINGs 10 ms apart missed it now and then); with 50 samples p99 is
        // still the slowest one.
        async let slow = runCheck(RedisLatencyCheck(store: store, pings: 50, interval: 0.03), .redisLatency, timeout: 4)
        try await Task.sleep(for: .milliseconds(60))
        _ = await redisAdmin(Self.healthy.port, ["DEBUG", "SLEEP", "0.3"])
        let (result, _) = await slow
        #expect(result.status == .warning, "\(result.summary)")
        #expect(result.summary.contains("slow"))
        #expect((result.metrics["max_ms"] ?? 0) > 150)

        let blocker = Task { await redisAdmin(Self.healthy.port, ["DEBUG", "SLEEP", "2"]) }
        try await Task.sleep(for: .milliseconds(100))
        let (hung, seconds) = await runCheck(RedisWriteCheck(store: store, instance: "test"), .redisWrite, timeout: 0.6)
        #expect(hung.status == .critical, "\(hung.summary)")
        #expect(hung.summary.contains("did not answer"), "\(hung.summary)")
        #expect(!hung.reachabilityFailure)
        #expect(seconds < 0.6 + 0.5)
        _ = await blocker.value
    }

    @Test func memoryNearMaxmemoryAndOOM() async throws {
        try await Self.warm()
        let server = try await offPool { try RedisServer() }
        defer { server.stop() }
        let store = Self.store(server.port)
        let used =
            RedisInfo(await redisAdmin(server.port, ["INFO", "memory"])?.text ?? "").number("used_memory") ?? 1_000_000
        _ = await redisAdmin(server.port, ["CONFIG", "SET", "maxmemory", String(Int(used * 1.04))])
        let near = await runCheck(RedisStatusCheck(store: store), .redisStatus)
        #expect(near.result.status == .warning, "\(near.result.summary)")
        #expect(near.result.summary.contains("of maxmemory"))

        _ = await redisAdmin(server.port, ["CONFIG", "SET", "maxmemory", "1"])
        let full = await runCheck(RedisWriteCheck(store: store, instance: "test"), .redisWrite)
        #expect(full.result.status == .critical)
        #expect(full.result.summary.contains("OOM"), "\(full.result.summary)")

        _ = await redisAdmin(server.port, ["CONFIG", "SET", "maxmemory", "0"])
        _ = await redisAdmin(server.port, ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        let policy = await runCheck(RedisStatusCheck(store: store), .redisStatus)
        #expect(policy.result.status == .warning)
        #expect(
            policy.result.summary.contains("maxmemory-policy is allkeys-lru, ClearML needs noeviction"),
            "\(policy.result.summary)")
    }

    @Test func failedBackgroundSaveGivesMISCONF() async throws {
        try await Self.warm()
        let unwritable = try TempDirectory("redis-unwritable")
        defer { unwritable.remove() }
        chmod(unwritable.path, 0o755)  // owned by root: nobody cannot create the dump there
        let server = try await offPool {
            try RedisServer(
                arguments: ["--dir", unwritable.path, "--save", "3600 1", "--stop-writes-on-bgsave-error", "yes"],
                asUser: "65534")
        }
        defer { server.stop() }
        _ = await redisAdmin(server.port, ["BGSAVE"])
        try await waitForInfo(server.port) {
            $0["rdb_bgsave_in_progress"] == "0" && $0["rdb_last_bgsave_status"] == "err"
        }
        let store = Self.store(server.port)
        let write = await runCheck(RedisWriteCheck(store: store, instance: "test"), .redisWrite)
        #expect(write.result.status == .critical)
        #expect(write.result.summary.contains("MISCONF"), "\(write.result.summary)")
        let status = await runCheck(RedisStatusCheck(store: store), .redisStatus)
        #expect(status.result.status == .critical)
        #expect(status.result.summary.contains("background save failed"), "\(status.result.summary)")
    }

    @Test func replicaRefusesWritesWithREADONLY() async throws {
        try await Self.warm()
        _ = await redisAdmin(Self.healthy.port, ["CONFIG", "SET", "repl-diskless-sync-delay", "0"])  // sync at once
        let replica = try await offPool {
            try RedisServer(arguments: ["--replicaof", "127.0.0.1", String(Self.healthy.port)])
        }
        defer { replica.stop() }
        try await waitForInfo(replica.port) { $0["master_link_status"] == "up" }
        let store = Self.store(replica.port)
        let write = await runCheck(RedisWriteCheck(store: store, instance: "test"), .redisWrite)
        #expect(write.result.status == .critical)
        #expect(write.result.summary.contains("READONLY"), "\(write.result.summary)")
        let status = await runCheck(RedisStatusCheck(store: store), .redisStatus)
        #expect(status.result.status == .warning)
        #expect(status.result.summary.contains("replica"), "\(status.result.summary)")
    }

    @Test func listenerThatNeverAnswersIsATimeoutWithinTheDeadline() async throws {
        try await Self.warm()
        let blackhole = try await offPool { try PythonDouble("blackhole.py") }
        defer { blackhole.stop() }
        let store = Self.store(blackhole.port("blackhole"))
        let (result, seconds) = await runCheck(RedisLatencyCheck(store: store), .redisLatency, timeout: 0.5)
        #expect(result.status == .critical)
        #expect(result.summary.contains("accepted the connection but did not answer"), "\(result.summary)")
        #expect(!result.reachabilityFailure)
        #expect(seconds < 0.5 + 0.5)
    }

    @Test func restartSincePreviousSampleIsAWarning() async throws {
        try await Self.warm()
        // The previous sample saw Redis up for a day; now it has been up for seconds: it restarted in between.
        let state = ProbeState()
        let store = Self.store(Self.healthy.port)
        await state.exchangeSample("redis.status/\(store.display)/uptime_s", value: 86_400)
        let after = await runCheck(RedisStatusCheck(store: store), .redisStatus, state: state)
        #expect(after.result.status == .warning, "\(after.result.summary)")
        #expect(after.result.summary.contains("restarted"))
        let again = await runCheck(RedisStatusCheck(store: store), .redisStatus, state: state)
        #expect(again.result.status == .ok, "a restart is reported once: \(again.result.summary)")
    }

    @Test func disabledCONFIGLeavesMaxclientsUnknown() async throws {
        try await Self.warm()
        let server = try await offPool { try RedisServer(arguments: ["--rename-command", "CONFIG", ""]) }
        defer { server.stop() }
        let status = await runCheck(RedisStatusCheck(store: Self.store(server.port)), .redisStatus)
        #expect(status.result.status == .ok, "\(status.result.summary)")
        #expect(status.result.summary.contains("maxclients unknown"))
    }

    @Test func clusterModeIsAWarningAndStandaloneIsNot() async throws {
        try await Self.warm()
        let dir = try TempDirectory("redis-cluster")
        defer { dir.remove() }
        let server = try await offPool {
            try RedisServer(port: Ports.free(below: 55536), arguments: ["--cluster-enabled", "yes", "--dir", dir.path])
        }
        defer { server.stop() }
        let status = await runCheck(RedisStatusCheck(store: Self.store(server.port)), .redisStatus)
        #expect(status.result.status == .warning, "\(status.result.summary)")
        #expect(status.result.summary.contains("cluster mode"), "\(status.result.summary)")
        #expect(status.result.metrics["cluster_enabled"] == 1)
        let standalone = await runCheck(RedisStatusCheck(store: Self.store(Self.healthy.port)), .redisStatus)
        #expect(standalone.result.metrics["cluster_enabled"] == 0)
        #expect(!standalone.result.summary.contains("cluster mode"))
    }
}
