import Foundation
import NativeClients
import ProbeCore
import TestSupport

@testable import Probes

/// Runs one check the way the engine does: a context with a deadline of `timeout` seconds.
func runCheck(
    _ check: some Check, _ id: CheckID, timeout: Double = 1, state: ProbeState = ProbeState(),
    config: ProbeConfig = ProbeConfig(instance: "test")
) async -> (result: CheckResult, seconds: Double) {
    let context = CheckContext(
        id: id, config: config, settings: CheckSettings(timeout: timeout), deadline: .now + .seconds(timeout),
        state: state)
    let started = ContinuousClock.now
    let results = await check.run(context)
    let elapsed = started.duration(to: .now)
    return (results[0], elapsed.seconds)
}

/// Sends commands to a test Redis on a connection of the test's own (not the probe's shared one).
func redisAdmin(_ port: Int, _ arguments: [String], password: String? = nil) async -> RedisReply? {
    let connection = RedisConnection(
        endpoint: RedisEndpoint(
            host: "127.0.0.1", port: port, password: password.map(Secret.init),
            clientName: "test-admin"))
    return await connection.session(deadline: .now + .seconds(5)) { session in
        try? session.command(arguments).get()
    }
}

/// Waits until `condition` holds on the server's INFO (background saves, replication links).
func waitForInfo(_ port: Int, timeout: Double = 10, _ condition: (RedisInfo) -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let text = await redisAdmin(port, ["INFO"])?.text, condition(RedisInfo(text)) { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSupportError("redis on \(port): condition not reached within \(timeout) s")
}

/// Runs a TestSupport starter (or any blocking call) off the cooperative pool. The starters wait synchronously for
/// a ready line or a listening port; on a 2-core machine two such waits on the pool stall every other suite's
/// timers and continuations.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingExecutor.run(label: "test-server") { Result { try body() } }.get()
}
