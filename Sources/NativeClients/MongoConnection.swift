import CMongoc
import Dispatch
import Foundation
import ProbeCore

/// One persistent libmongoc client for one MongoDB, recreated when it breaks.
///
/// A single-threaded `mongoc_client_t` must never be used concurrently: it is touched only on `queue` (serial, not a
/// global queue, so never on Swift's cooperative pool). Every call is bounded inside libmongoc: the URI always gets
/// connectTimeoutMS, socketTimeoutMS, serverSelectionTimeoutMS and serverSelectionTryOnce=true (without them a hung
/// peer holds a call for 10 s to 300 s), and host names are resolved first with
/// `BoundedResolver`, because libmongoc does not bound `getaddrinfo`.
public final class MongoConnection: @unchecked Sendable {
    // @unchecked: `client` is read and written only inside blocks running on the serial `queue`.
    public let endpoint: MongoEndpoint
    let queue: DispatchQueue
    fileprivate var client: MongoClientHandle?
    /// Remembered across sessions for things done once per connection (the probe's TTL index).
    fileprivate var flags: Set<String> = []

    public init(endpoint: MongoEndpoint) {
        self.endpoint = endpoint
        self.queue = DispatchQueue(label: "clearml-probe.mongo.\(endpoint)")
    }

    /// Runs `body` on the client's queue; the session's steps share `deadline`.
    public func session<T: Sendable>(deadline: ContinuousClock.Instant, _ body: @escaping @Sendable (MongoSession) -> T)
        async -> T
    {
        await BlockingExecutor.run(on: queue) {
            body(MongoSession(connection: self, deadline: deadline))
        }
    }
}

/// A command's reply and the time libmongoc spent on it (server selection included, JSON conversion not).
public struct MongoReply: Sendable {
    public var value: JSONValue
    public var seconds: Double
    /// True when this session created the client (the first call paid for connecting and the handshake).
    public var freshClient: Bool
}

/// The client as one session on the queue sees it. Not Sendable: it lives inside one block on the queue.
public struct MongoSession {
    let connection: MongoConnection
    public let deadline: ContinuousClock.Instant

    public var remaining: Double { deadline.secondsLeft }

    /// Whether `flag` was set earlier on this connection; sets it.
    public func once(_ flag: String) -> Bool { !connection.flags.insert(flag).inserted }

    /// Clears a flag set by `once` (when the thing it stood for failed).
    public func forget(_ flag: String) { connection.flags.remove(flag) }

    /// Runs a database command (`{"ping": 1}`) with `mongoc_client_command_simple`; `ok: 0` is a `.server` failure.
    public func command(_ json: String, database: String, step: String) -> Result<MongoReply, MongoFailure> {
        perform(step: step) { client, reply, error in
            withDocument(json, step: step) { command in
                mongoc_client_command_simple(client.pointer, database, command.pointer, nil, reply.pointer, &error)
            }
        }
    }

    /// `insert_one` with the write concern; a `writeConcernError` is a `.writeConcern` failure (the write happened).
    public func insertOne(
        database: String, collection: String, document json: String,
        writeConcern: MongoWriteConcern
    ) -> Result<MongoReply, MongoFailure> {
        let step = "insert into \(database).\(collection)"
        return perform(step: step) { client, reply, error in
            withDocument(json, step: step) { document in
                withWriteConcern(writeConcern) { opts in
                    withCollection(client, database, collection) { handle in
                        mongoc_collection_insert_one(handle, document.pointer, opts.pointer, reply.pointer, &error)
                    }
                }
            }
        }
    }

    /// `delete_one` with the write concern.
    public func deleteOne(
        database: String, collection: String, filter json: String,
        writeConcern: MongoWriteConcern
    ) -> Result<MongoReply, MongoFailure> {
        let step = "delete from \(database).\(collection)"
        return perform(step: step) { client, reply, error in
            withDocument(json, step: step) { filter in
                withWriteConcern(writeConcern) { opts in
                    withCollection(client, database, collection) { handle in
                        mongoc_collection_delete_one(handle, filter.pointer, opts.pointer, reply.pointer, &error)
                    }
                }
            }
        }
    }

    /// The first document matching `filter` (`{"found": doc}` or `{}` in the reply's value).
    public func findOne(database: String, collection: String, filter json: String) -> Result<MongoReply, MongoFailure> {
        let step = "find in \(database).\(collection)"
        return perform(step: step) { client, reply, error in
            withDocument(json, step: step) { filter in
                withDocument(#"{"limit": 1}"#, step: step) { opts in
                    withCollection(client, database, collection) { handle in
                        guard let cursor = mongoc_collection_find_with_opts(handle, filter.pointer, opts.pointer, nil)
                        else { return false }
                        defer { mongoc_cursor_destroy(cursor) }
                        var document: OpaquePointer?
                        if mongoc_cursor_next(cursor, &document), let document {
                            _ = bson_append_document(reply.pointer, "found", -1, document)
                            return true
                        }
                        var errorDocument: OpaquePointer?
                        if mongoc_cursor_error_document(cursor, &error, &errorDocument) {
                            if let errorDocument { _ = bson_concat(reply.pointer, errorDocument) }
                            return false
                        }
                        return true
                    }
                }
            }
        }
    }

    // MARK: - plumbing

    /// Gets (or makes) the client, runs one libmongoc call with a fresh reply and error, and turns the outcome
    /// into a reply or a named failure. A failure that leaves the client unusable drops it.
    private func perform(step: String, _ call: (MongoClientHandle, BSONReply, inout bson_error_t) -> Bool) -> Result<
        MongoReply, MongoFailure
    > {
        guard remaining > 0.001 else {
            return .failure(
                MongoFailure(kind: .deadline, step: step, message: "the check's deadline was used up before this step"))
        }
        let fresh = connection.client == nil
        let client: MongoClientHandle
        switch fresh
            ? MongoClientHandle.make(connection.endpoint, resolveWithin: remaining) : .success(connection.client!)
        {
        case .failure(let failure): return .failure(failure)
        case .success(let made): client = made
        }
        connection.client = client
        let reply = BSONReply()
        var error = bson_error_t()
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let ok = call(client, reply, &error)
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        let value = reply.value
        if ok {
            return .success(MongoReply(value: value, seconds: seconds, freshClient: fresh))
        }
        let failure = MongoClientHandle.failure(error, reply: value, step: step)
        switch failure.kind {
        case .serverSelection, .timeout, .io, .nameResolution: connection.client = nil
        default: break
        }
        return .failure(failure)
    }

    private func withDocument(_ json: String, step: String, _ body: (BSONDocument) -> Bool) -> Bool {
        guard let document = try? BSONDocument.fromJSON(json).get() else { return false }
        return body(document)
    }

    private func withWriteConcern(_ concern: MongoWriteConcern, _ body: (BSONReply) -> Bool) -> Bool {
        guard let writeConcern = mongoc_write_concern_new() else { return false }
        defer { mongoc_write_concern_destroy(writeConcern) }
        if concern.majority {
            mongoc_write_concern_set_wmajority(writeConcern, Int32(clamping: concern.wtimeoutMs))
        } else {
            mongoc_write_concern_set_w(writeConcern, 1)
            mongoc_write_concern_set_wtimeout_int64(writeConcern, Int64(concern.wtimeoutMs))
        }
        mongoc_write_concern_set_journal(writeConcern, concern.journal)
        let opts = BSONReply()
        guard mongoc_write_concern_append(writeConcern, opts.pointer) else { return false }
        return body(opts)
    }

    private func withCollection(
        _ client: MongoClientHandle, _ database: String, _ collection: String,
        _ body: (OpaquePointer) -> Bool
    ) -> Bool {
        guard let handle = mongoc_client_get_collection(client.pointer, database, collection) else { return false }
        defer { mongoc_collection_destroy(handle) }
        return body(handle)
    }
}

/// Owns one `mongoc_client_t` and destroys it exactly once. Not Sendable: used only on its connection's queue.
final class MongoClientHandle {
    private static let initialised: Bool = {
        mongoc_init()
        // libmongoc would print its own warnings to stderr; every failure reaches the probe through bson_error_t.
        mongoc_log_set_handler(nil, nil)
        return true
    }()

    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { mongoc_client_destroy(pointer) }

    /// Parses the URI, adds the timeouts, resolves its hosts within the deadline, and creates the client.
    static func make(_ endpoint: MongoEndpoint, resolveWithin: Double) -> Result<MongoClientHandle, MongoFailure> {
        guard initialised else {
            return .failure(MongoFailure(kind: .other, step: "connect", message: "libmongoc did not initialise"))
        }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(endpoint.uri.exposed, &error) else {
            // The parser's message can quote the URI, password included: it is not shown.
            return .failure(
                MongoFailure(
                    kind: .invalidURI, step: "parse the connection string",
                    message: "libmongoc rejects it (check the scheme, host list and options)"))
        }
        defer { mongoc_uri_destroy(uri) }
        let milliseconds = Int32(clamping: max(1, Int((endpoint.timeout * 1000).rounded())))
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, milliseconds)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, milliseconds)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, milliseconds)
        // Try once (the single-threaded default, set explicitly): a refused port fails in a millisecond instead of
        // being retried until serverSelectionTimeoutMS, and connectTimeoutMS bounds a peer that never answers the
        // handshake. A probe reports what it saw; it does not retry inside a cycle.
        _ = mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE, true)
        _ = mongoc_uri_set_appname(uri, endpoint.appName)

        if mongoc_uri_get_srv_hostname(uri) == nil {
            if let failure = resolveHosts(mongoc_uri_get_hosts(uri), within: resolveWithin) { return .failure(failure) }
        }
        guard let client = mongoc_client_new_from_uri_with_error(uri, &error) else {
            return .failure(
                MongoFailure(
                    kind: .invalidURI, step: "create the client", domain: error.domain,
                    code: Int(error.code), message: message(of: error)))
        }
        mongoc_client_set_error_api(client, 2)
        return .success(MongoClientHandle(pointer: client))
    }

    /// Resolves every seed host within the deadline; a failure only when none resolves.
    static func resolveHosts(_ list: UnsafePointer<mongoc_host_list_t>?, within seconds: Double) -> MongoFailure? {
        let started = ContinuousClock.now
        var node = list
        var failures: [String] = []
        var resolved = 0
        while let current = node {
            let host = withUnsafeBytes(of: current.pointee.host) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            let elapsed = started.duration(to: .now)
            let left = seconds - elapsed.seconds
            if host.hasPrefix("/") {
                resolved += 1  // a Unix socket path
            } else {
                switch BoundedResolver.resolve(host, timeout: left) {
                case .success: resolved += 1
                case .failure(let failure): failures.append(failure.description)
                }
            }
            node = UnsafePointer(current.pointee.next)
        }
        guard resolved == 0, !failures.isEmpty else { return nil }
        return MongoFailure(kind: .nameResolution, step: "resolve", message: failures.joined(separator: "; "))
    }

    static func message(of error: bson_error_t) -> String {
        withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Names a libmongoc error (error API 2: server errors carry the server's code).
    static func failure(_ error: bson_error_t, reply: JSONValue, step: String) -> MongoFailure {
        let text = message(of: error)
        let code = Int(error.code)
        switch error.domain {
        case MONGOC_ERROR_SERVER_SELECTION.rawValue:
            return MongoFailure(kind: .serverSelection, step: step, domain: error.domain, code: code, message: text)
        case MONGOC_ERROR_STREAM.rawValue:
            let kind: MongoFailure.Kind =
                text.localizedCaseInsensitiveContains("timeout") || text.localizedCaseInsensitiveContains("timed out")
                ? .timeout : .io
            return MongoFailure(kind: kind, step: step, domain: error.domain, code: code, message: text)
        case MONGOC_ERROR_WRITE_CONCERN.rawValue:
            let first = reply["writeConcernErrors"]?.array?.first ?? reply["writeConcernError"]
            return MongoFailure(
                kind: .writeConcern, step: step, domain: error.domain, code: first?["code"]?.int ?? code,
                codeName: first?["codeName"]?.string, message: first?["errmsg"]?.string ?? text)
        case MONGOC_ERROR_SERVER.rawValue:
            if let writeError = reply["writeErrors"]?.array?.first {
                return MongoFailure(
                    kind: .write, step: step, domain: error.domain, code: writeError["code"]?.int ?? code,
                    codeName: writeError["codeName"]?.string, message: writeError["errmsg"]?.string ?? text)
            }
            return MongoFailure(
                kind: .server, step: step, domain: error.domain, code: code,
                codeName: reply["codeName"]?.string, message: text)
        default:
            return MongoFailure(
                kind: .other, step: step, domain: error.domain, code: code,
                message: text.isEmpty ? "libmongoc call failed" : text)
        }
    }
}
