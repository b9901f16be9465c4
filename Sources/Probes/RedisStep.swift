import Foundation
import NativeClients
import ProbeCore

/// What the Redis checks share: the connection for the configured store, and words for what went wrong.
enum RedisStep {
    static func connection(_ store: RedisStore) -> RedisConnection {
        DataStoreConnections.shared.redis(
            RedisEndpoint(
                host: store.host, port: store.port, username: store.username,
                password: store.password, database: store.database))
    }

    static func notConfigured() -> CheckPlan {
        .notConfigured("no Redis address (set CLEARML_REDIS_SERVICE_HOST or redis.host)")
    }

    /// A result for a command that got no reply, or a handshake the server refused.
    static func failure(
        _ failure: RedisFailure, store: RedisStore, context: CheckContext, builder: ResultBuilder,
        metrics: [String: Double] = [:]
    ) -> CheckResult {
        let place = store.display
        let waited = Durations.format(seconds: context.settings.timeout)
        var status = Status.critical
        let summary: String
        let hint: String
        switch failure.kind {
        case .nameResolution:
            summary = "\(failure.message) from here"
            hint = "Check redis.host (CLEARML_REDIS_SERVICE_HOST) and that the probe is on the stack's network."
        case .connectionRefused:
            summary = "connection refused at \(place): Redis is not listening"
            hint = "Is the Redis container running? See its logs (a crash loop, or a wrong port)."
        case .connectTimeout:
            summary = "no TCP connection to \(place) within \(waited)"
            hint = "A firewall drops packets, or the host is down or overloaded."
        case .timeout:
            summary = "\(place) accepted the connection but did not answer \(failure.step) within \(waited)"
            hint = "Redis is blocked (a slow command, a long save with fork, swapping) or something else listens there."
        case .connectionClosed, .io:
            summary = "\(place) broke the connection during \(failure.step): \(failure.message)"
            hint = "See the Redis log: maxclients reached, a restart, or protected mode refusing the probe's address."
        case .protocolError:
            summary = "\(place) does not speak the Redis protocol (\(failure.message))"
            hint = "Something else listens on that port: check redis.port."
        case .rejected:
            let kind = RedisErrorReply(failure.message)
            if kind.isAuthentication { status = .unknown }
            summary =
                (kind.isAuthentication ? "the probe is blind: " : "")
                + "\(kind.rawValue) at \(failure.step): \(kind.meaning)"
            hint = kind.hint
        case .deadline:
            summary =
                "no time left in the \(waited) deadline before \(failure.step) (the connection was busy with another Redis check)"
            hint = "Redis answers slowly; see redis.latency."
        case .other:
            summary = "\(failure.step) at \(place) failed: \(failure.message)"
            hint = "See the error and the Redis log."
        }
        return builder.result(
            status: status, summary: summary, hint: hint, metrics: metrics,
            error: context.redact(failure.description),
            dependsOn: builder.id.livenessDependency(noAnswer: failure.gotNoAnswer),
            reachabilityFailure: failure.isReachability)
    }

    /// A result for an error reply to a command (MISCONF, READONLY, OOM…).
    static func errorReply(
        _ message: String, command: String, context: CheckContext, builder: ResultBuilder,
        metrics: [String: Double] = [:]
    ) -> CheckResult {
        let kind = RedisErrorReply(message)
        let status: Status = kind.isAuthentication ? .unknown : .critical
        let summary =
            (kind.isAuthentication ? "the probe is blind: " : "")
            + "\(command) refused with \(kind.rawValue): \(kind.meaning)"
        return builder.result(
            status: status, summary: summary, hint: kind.hint, metrics: metrics,
            error: context.redact(message), evidence: context.redact(message))
    }
}
