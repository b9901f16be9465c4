import Foundation

/// Idle curl easy handles, kept between requests so a check step does not pay for `curl_easy_init` and the internal
/// multi handle (with its wake-up socket pair) that the first `curl_easy_perform` of a handle creates.
///
/// A handle goes back reset (`curl_easy_reset`), and every request sets `CURLOPT_FRESH_CONNECT`,
/// `CURLOPT_FORBID_REUSE`, `CURLOPT_DNS_CACHE_TIMEOUT` 0 and `CURLOPT_SSL_SESSIONID_CACHE` 0: no connection, TLS
/// session or DNS answer survives one request, so each check still measures a full resolve, connect and handshake.
/// No share handle is used.
final class CurlHandlePool: @unchecked Sendable {
    // @unchecked Sendable: `idle` is only read and written under `lock`; a handle taken out is used by exactly one
    // blocking call (on its own queue, off the cooperative pool) until it is given back.
    static let shared = CurlHandlePool(capacity: 16)

    private let lock = NSLock()
    private var idle: [CurlEasy] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// An idle handle, or a new one; nil when libcurl cannot make one.
    func take() -> CurlEasy? {
        if let easy = lock.withLock({ idle.popLast() }) { return easy }
        return CurlEasy()
    }

    /// Resets the handle and keeps it for the next request, unless enough are idle already (then it is freed).
    func give(_ easy: CurlEasy) {
        easy.reset()
        lock.withLock {
            if idle.count < capacity { idle.append(easy) }
        }
    }

    var idleCount: Int { lock.withLock { idle.count } }
}
