import Foundation
import NativeClients
import ProbeCore
import TestSupport
import Testing

/// The persistent data-store connections: reused, reconnected when broken, bounded.
@Suite(.serialized)
struct DataStoreConnectionTests {
    @Test func redisConnectionIsReusedAndReconnectedAfterARestart() async throws {
        let port = Ports.free()
        let first = try await offPool { try RedisServer(port: port) }
        let connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: port))
        let opened = await connection.session(deadline: .now + .seconds(2)) { $0.connect().map(\.fresh) }
        #expect((try? opened.get()) == true)
        let reused = await connection.session(deadline: .now + .seconds(2)) { $0.connect().map(\.fresh) }
        #expect((try? reused.get()) == false)

        try await offPool { first.stop() }
        let second = try await offPool { try RedisServer(port: port) }
        defer { second.stop() }
        // The old socket is dead; the first command notices, reconnects once and answers.
        let reply = await connection.session(deadline: .now + .seconds(2)) { try? $0.command(["PING"]).get() }
        #expect(reply == .status("PONG"))
    }

    @Test func redisReadTimeoutIsCalledATimeout() async throws {
        let blackhole = try await offPool { try PythonDouble("blackhole.py") }
        defer { blackhole.stop() }
        let connection = RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: blackhole.port("blackhole")))
        let started = ContinuousClock.now
        let result = await connection.session(deadline: .now + .milliseconds(400)) { $0.command(["PING"]) }
        guard case .failure(let failure) = result else {
            Issue.record("a listener that never answers gave a reply")
            return
        }
        #expect(failure.kind == .timeout, "hiredis says EAGAIN: \(failure)")
        #expect(started.duration(to: .now) < .milliseconds(900))
    }

    @Test func boundedResolverPassesNumbersAndFailsUnknownNames() async throws {
        // The resolver blocks its caller (it is called on a connection's queue): never on the cooperative pool.
        let numeric = try await offPool { BoundedResolver.resolve("127.0.0.1", timeout: 0.1) }
        #expect((try? numeric.get()) == ["127.0.0.1"])
        let local = try await offPool { BoundedResolver.resolve("localhost", timeout: 2) }
        #expect((try? local.get())?.isEmpty == false)
        let started = ContinuousClock.now
        let invalid = try await offPool { BoundedResolver.resolve("no-such-host.invalid", timeout: 0.5) }
        if case .success = invalid { Issue.record("resolved an invalid name") }
        #expect(started.duration(to: .now) < .milliseconds(1000))
    }

    @Test func mongoFailureNamesReachability() {
        let refused = MongoFailure(
            kind: .serverSelection, step: "ping",
            message: "No suitable servers found: [connection refused calling hello on '127.0.0.1:1']")
        #expect(refused.isReachability)
        let hung = MongoFailure(
            kind: .serverSelection, step: "ping",
            message: "No suitable servers found: [socket timeout calling hello on '127.0.0.1:1']")
        #expect(!hung.isReachability)
        #expect(
            MongoEndpoint(uri: Secret("mongodb://u:secret@db1:27017,db2:27017/?replicaSet=rs0"), timeout: 1).description
                == "db1:27017,db2:27017")
    }
}

/// Runs a TestSupport starter off the cooperative pool (it waits synchronously for the server).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingExecutor.run(label: "test-server") { Result { try body() } }.get()
}
