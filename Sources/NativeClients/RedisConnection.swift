import CHiredis
import Dispatch
import Foundation
import ProbeCore

/// One persistent connection to one Redis, reconnected when it breaks.
///
/// The hiredis context is touched only on `queue` (serial, not a global queue), so calls never overlap and never run
/// on Swift's cooperative pool. Every step is bounded inside hiredis: the connect by `redisConnectWithTimeout`, each
/// command by `redisSetTimeout` set to what is left of the caller's deadline; the name is resolved first with
/// `BoundedResolver`, because hiredis does not bound `getaddrinfo`.
public final class RedisConnection: @unchecked Sendable {
    // @unchecked: `context` is read and written only inside blocks running on the serial `queue`.
    public let endpoint: RedisEndpoint
    let queue: DispatchQueue
    fileprivate var context: RedisContext?

    public init(endpoint: RedisEndpoint) {
        self.endpoint = endpoint
        self.queue = DispatchQueue(label: "clearml-probe.redis.\(endpoint)")
    }

    /// Runs `body` on the connection's queue; the session's steps share `deadline`.
    public func session<T: Sendable>(deadline: ContinuousClock.Instant, _ body: @escaping @Sendable (RedisSession) -> T)
        async -> T
    {
        await BlockingExecutor.run(on: queue) {
            body(RedisSession(connection: self, deadline: deadline))
        }
    }

    /// Drops the connection (the next session connects afresh).
    public func close() async {
        await BlockingExecutor.run(on: queue) { self.context = nil }
    }
}

/// What `RedisSession.connect()` did.
public struct RedisConnectInfo: Sendable {
    /// False when an open connection was reused.
    public var fresh: Bool
    /// Resolve + TCP connect + handshake, in milliseconds (0 when reused).
    public var milliseconds: Double
    /// The address connected to.
    public var address: String
}

/// The connection as one session on the queue sees it. Not Sendable: it lives inside one block on the queue.
public struct RedisSession {
    let connection: RedisConnection
    public let deadline: ContinuousClock.Instant

    /// Seconds left before the deadline.
    public var remaining: Double { deadline.secondsLeft }

    /// Connects (resolve, connect, AUTH, CLIENT SETNAME, SELECT) unless an open connection can be reused.
    /// An error reply during the handshake (WRONGPASS, NOAUTH) is a failure of kind `.rejected`.
    @discardableResult
    public func connect() -> Result<RedisConnectInfo, RedisFailure> {
        if let context = connection.context {
            return .success(RedisConnectInfo(fresh: false, milliseconds: 0, address: context.address))
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let endpoint = connection.endpoint
        guard remaining > 0.001 else { return .failure(noTime("connect")) }
        let addresses: [String]
        switch BoundedResolver.resolve(endpoint.host, timeout: remaining) {
        case .success(let found): addresses = found
        case .failure(let failure):
            return .failure(
                RedisFailure(
                    kind: .nameResolution,
                    step: "resolve \(endpoint.host)", message: failure.description))
        }
        var lastFailure = RedisFailure(kind: .other, step: "connect", message: "no address")
        for address in addresses {
            guard remaining > 0.001 else { return .failure(noTime("connect")) }
            switch RedisContext.open(address: address, port: endpoint.port, timeout: remaining) {
            case .failure(let failure):
                lastFailure = failure
                continue
            case .success(let context):
                if let failure = handshake(context) { return .failure(failure) }
                connection.context = context
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                return .success(RedisConnectInfo(fresh: true, milliseconds: elapsed, address: address))
            }
        }
        return .failure(lastFailure)
    }

    /// AUTH, CLIENT SETNAME, SELECT on a fresh context; nil when all went well.
    private func handshake(_ context: RedisContext) -> RedisFailure? {
        let endpoint = connection.endpoint
        if let password = endpoint.password {
            let arguments = (endpoint.username.map { ["AUTH", $0] } ?? ["AUTH"]) + [password.exposed]
            switch context.command(arguments, timeout: remaining, step: "AUTH") {
            case .failure(let failure): return failure
            case .success(.error(let message)): return RedisFailure(kind: .rejected, step: "AUTH", message: message)
            case .success: break
            }
        }
        switch context.command(["CLIENT", "SETNAME", endpoint.clientName], timeout: remaining, step: "CLIENT SETNAME") {
        case .failure(let failure): return failure
        case .success(.error(let message)) where RedisSession.isAuthError(message):
            return RedisFailure(kind: .rejected, step: "CLIENT SETNAME", message: message)
        default: break  // CLIENT renamed or disabled: the name is a courtesy, not a requirement
        }
        if endpoint.database != 0 {
            switch context.command(["SELECT", String(endpoint.database)], timeout: remaining, step: "SELECT") {
            case .failure(let failure): return failure
            case .success(.error(let message)):
                return RedisFailure(kind: .rejected, step: "SELECT \(endpoint.database)", message: message)
            case .success: break
            }
        }
        return nil
    }

    static func isAuthError(_ message: String) -> Bool {
        message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS") || message.hasPrefix("ERR invalid password")
            || message.hasPrefix("ERR AUTH") || message.hasPrefix("ERR Client sent AUTH")
    }

    /// Sends one command (connecting first when needed). An error reply is a success with `.error`: the server
    /// answered. A failure drops the connection. A reused connection that turns out closed (the server restarted or
    /// dropped idle clients) is reopened once: that is revalidating the connection, not retrying the check.
    public func command(_ arguments: [String]) -> Result<RedisReply, RedisFailure> {
        timedCommand(arguments).map(\.reply)
    }

    /// Like `command`, with the time spent inside hiredis for the round trip alone (no connect, no conversion).
    public func timedCommand(_ arguments: [String]) -> Result<(reply: RedisReply, seconds: Double), RedisFailure> {
        let step = arguments.first.map { $0.uppercased() } ?? "command"
        let info: RedisConnectInfo
        switch connect() {
        case .failure(let failure): return .failure(failure)
        case .success(let connected): info = connected
        }
        guard let context = connection.context else {
            return .failure(RedisFailure(kind: .other, step: step, message: "not connected"))
        }
        guard remaining > 0.001 else { return .failure(noTime(step)) }
        let result = context.timedCommand(arguments, timeout: remaining, step: step)
        if case .failure(let failure) = result {
            connection.context = nil
            if !info.fresh, failure.kind == .connectionClosed || failure.kind == .io {
                return timedCommand(arguments)
            }
        }
        return result
    }

    /// Forgets the connection (after a reply that shows it is unusable).
    public func drop() { connection.context = nil }

    func noTime(_ step: String) -> RedisFailure {
        RedisFailure(kind: .deadline, step: step, message: "the check's deadline was used up before this step")
    }
}

/// Owns one `redisContext` and frees it exactly once. Not Sendable: used only on its connection's queue.
final class RedisContext {
    let pointer: UnsafeMutablePointer<redisContext>
    let address: String

    private init(pointer: UnsafeMutablePointer<redisContext>, address: String) {
        self.pointer = pointer
        self.address = address
    }

    deinit { redisFree(pointer) }

    static func open(address: String, port: Int, timeout: Double) -> Result<RedisContext, RedisFailure> {
        let shown = address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
        guard let pointer = redisConnectWithTimeout(address, Int32(port), Self.timeval(timeout)) else {
            return .failure(
                RedisFailure(kind: .other, step: "connect \(shown)", message: "hiredis could not allocate a context"))
        }
        // redisConnectWithTimeout returns a context even when the connect failed: the error is in `err`.
        let context = RedisContext(pointer: pointer, address: shown)
        if pointer.pointee.err != 0 {
            let message = context.errorText
            let kind: RedisFailure.Kind =
                message.localizedCaseInsensitiveContains("refused")
                ? .connectionRefused
                : message.localizedCaseInsensitiveContains("timed out") || message.contains("temporarily unavailable")
                    || message.contains("in progress")
                    ? .connectTimeout
                    : .io
            return .failure(RedisFailure(kind: kind, step: "connect \(shown)", message: message))
        }
        return .success(context)
    }

    static func timeval(_ seconds: Double) -> Glibc.timeval {
        let clamped = max(0.001, seconds)
        return Glibc.timeval(tv_sec: Int(clamped), tv_usec: Int((clamped - clamped.rounded(.down)) * 1_000_000))
    }

    var errorText: String {
        withUnsafeBytes(of: pointer.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    func command(_ arguments: [String], timeout: Double, step: String) -> Result<RedisReply, RedisFailure> {
        timedCommand(arguments, timeout: timeout, step: step).map(\.reply)
    }

    /// One command; `seconds` is the wall time of `redisCommandArgv` alone.
    func timedCommand(_ arguments: [String], timeout: Double, step: String) -> Result<
        (reply: RedisReply, seconds: Double), RedisFailure
    > {
        _ = redisSetTimeout(pointer, Self.timeval(timeout))
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var argv: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
        let lengths: [Int] = arguments.map { $0.utf8.count }
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let raw = redisCommandArgv(pointer, Int32(arguments.count), &argv, lengths)
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        guard let raw else { return .failure(failure(step: step)) }
        defer { freeReplyObject(raw) }
        let reply = Self.convert(raw.assumingMemoryBound(to: redisReply.self))
        return .success((reply, seconds))
    }

    /// Names the error of a NULL reply. hiredis reports a read timeout as EAGAIN ("Resource temporarily
    /// unavailable"), which is called a timeout here.
    func failure(step: String) -> RedisFailure {
        let message = errorText
        switch pointer.pointee.err {
        case REDIS_ERR_IO:
            if message.contains("temporarily unavailable") || message.localizedCaseInsensitiveContains("timed out") {
                return RedisFailure(kind: .timeout, step: step, message: "no reply before the deadline (\(message))")
            }
            if message.localizedCaseInsensitiveContains("reset")
                || message.localizedCaseInsensitiveContains("broken pipe")
            {
                return RedisFailure(kind: .connectionClosed, step: step, message: message)
            }
            return RedisFailure(kind: .io, step: step, message: message)
        case REDIS_ERR_EOF: return RedisFailure(kind: .connectionClosed, step: step, message: message)
        case REDIS_ERR_PROTOCOL: return RedisFailure(kind: .protocolError, step: step, message: message)
        default: return RedisFailure(kind: .other, step: step, message: message.isEmpty ? "no reply" : message)
        }
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func bytes() -> Data {
            guard let str = value.str else { return Data() }
            return Data(bytes: str, count: Int(value.len))
        }
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_INTEGER: return .integer(Int64(value.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            for index in 0..<Int(value.elements) {
                if let element = value.element?[index] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }
}
