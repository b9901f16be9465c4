import Foundation
import ProbeCore

/// Name resolution with a deadline. hiredis and libmongoc call `getaddrinfo` themselves and nothing bounds it, so a
/// name whose DNS server never answers would hold a probe for the resolver's own retries (tens of seconds).
/// The lookup runs on its own thread; when the deadline passes first the caller moves on and the thread finishes
/// (and is forgotten) whenever libc returns.
public enum BoundedResolver {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case timeout, notFound }
        public var kind: Kind
        public var host: String
        public var message: String

        public var description: String {
            switch kind {
            case .timeout: "resolving '\(host)' took longer than the deadline (\(message))"
            case .notFound: "cannot resolve '\(host)': \(message)"
            }
        }
    }

    /// The numeric addresses of `host` (IPv4 first), or why there are none. A numeric host is returned as is.
    public static func resolve(_ host: String, timeout: Double) -> Result<[String], Failure> {
        if isNumeric(host) { return .success([host]) }
        let box = LookupBox()
        let thread = Thread { box.finish(lookup(host)) }
        thread.stackSize = 256 * 1024
        thread.start()
        guard box.wait(timeout: max(0.001, timeout)) else {
            return .failure(
                Failure(
                    kind: .timeout, host: host,
                    message: "no answer within \(Durations.format(seconds: timeout))"))
        }
        return box.result!
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func lookup(_ host: String) -> Result<[String], Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        guard code == 0, let first = list else {
            return .failure(Failure(kind: .notFound, host: host, message: String(cString: gai_strerror(code))))
        }
        defer { freeaddrinfo(first) }
        var v4: [String] = []
        var v6: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if current.pointee.ai_family == AF_INET { v4.append(text) } else { v6.append(text) }
            }
            node = current.pointee.ai_next
        }
        let all = Array(NSOrderedSet(array: v4 + v6)) as? [String] ?? v4 + v6
        return all.isEmpty ? .failure(Failure(kind: .notFound, host: host, message: "no address")) : .success(all)
    }

    /// Hands the lookup's result across threads once.
    final class LookupBox: @unchecked Sendable {
        // @unchecked: `result` is written once under `condition` and read only after `wait` saw it set.
        private let condition = NSCondition()
        var result: Result<[String], Failure>?

        func finish(_ value: Result<[String], Failure>) {
            condition.lock()
            result = value
            condition.signal()
            condition.unlock()
        }

        func wait(timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            condition.lock()
            defer { condition.unlock() }
            while result == nil {
                if !condition.wait(until: deadline) { return result != nil }
            }
            return true
        }
    }
}
