import CCurl
import Foundation
import ProbeCore

/// HTTP over libcurl: easy handles reused from `CurlHandlePool` (never their connections, TLS sessions or DNS
/// answers), each request run off the cooperative pool.
public struct HTTPClient: Sendable {
    public init() {}

    /// Performs the request; every phase, name resolution included, is bounded by `request.timeout` inside libcurl.
    public func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPFailure> {
        await BlockingExecutor.run(label: "http") { CurlEasy.perform(request) }
    }
}

/// Owns one curl easy handle and frees it exactly once. Deliberately not Sendable: it lives inside one blocking call.
final class CurlEasy {
    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var connectToList: UnsafeMutablePointer<curl_slist>?

    init?() {
        guard Self.initialised, let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
        freeLists()
    }

    /// Back to a fresh handle's options, for the next request (libcurl keeps the handle's caches, which the options
    /// of every request switch off).
    func reset() {
        curl_easy_reset(handle)
        freeLists()
    }

    private func freeLists() {
        if let headerList { curl_slist_free_all(headerList) }
        if let connectToList { curl_slist_free_all(connectToList) }
        headerList = nil
        connectToList = nil
    }

    /// Accumulates what libcurl hands to the callbacks.
    final class Sink {
        var body = Data()
        var dropped = 0
        let limit: Int
        var headers: [(name: String, value: String)] = []
        /// The status of every response head, interim ones (100 Continue) included.
        var statuses: [Int] = []
        /// libcurl asked for the body of a request that declares one without sending it.
        var bodyAsked = false

        init(limit: Int) { self.limit = limit }
    }

    static func perform(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPFailure> {
        guard let easy = CurlHandlePool.shared.take() else {
            return .failure(HTTPFailure(kind: .other, code: -1, message: "libcurl could not be initialised"))
        }
        defer { CurlHandlePool.shared.give(easy) }
        return easy.run(request)
    }

    func run(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPFailure> {
        let sink = Sink(limit: request.maxBodyBytes)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let started = DispatchTime.now()

        let code: CURLcode = withExtendedLifetime(sink) {
            errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
                let context = Unmanaged.passUnretained(sink).toOpaque()
                configure(request, context: context, errorBuffer: errorPointer.baseAddress!)
                if let declared = request.declaredBodyBytes {
                    return performHeadOnly(request, declared: declared, context: context)
                }
                if let body = request.body {
                    return body.withUnsafeBytes { raw -> CURLcode in
                        _ = ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                        // COPYPOSTFIELDS copies, so the pointer need not outlive this closure.
                        _ = ccurl_setopt_ptr(
                            handle, CURLOPT_COPYPOSTFIELDS,
                            UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                        _ = ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)
                        return curl_easy_perform(handle)
                    }
                }
                if request.method == "HEAD" {
                    _ = ccurl_setopt_long(handle, CURLOPT_NOBODY, 1)
                } else if request.method != "GET" {
                    _ = ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)
                }
                return curl_easy_perform(handle)
            }
        }
        let timings = readTimings(
            fallbackTotal: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6)
        if request.declaredBodyBytes != nil, code == CURLE_ABORTED_BY_CALLBACK, sink.bodyAsked {
            // The server asked for the body (or libcurl began it after a final answer): the request ends here.
            guard let last = sink.statuses.last else {
                return .failure(
                    HTTPFailure(
                        kind: .other, code: Int(code.rawValue),
                        message: "libcurl began the declared body before any answer from the server", timings: timings))
            }
            return .success(
                HTTPResponse(
                    status: last, headers: last == 100 ? [] : sink.headers, body: sink.body,
                    droppedBodyBytes: sink.dropped, timings: timings))
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = Redact.stripUserinfo(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            return .failure(
                HTTPFailure(
                    kind: Self.kind(of: code), code: Int(code.rawValue), message: message,
                    timings: timings, phase: code == CURLE_OPERATION_TIMEDOUT ? Self.phase(timings) : nil))
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(
            HTTPResponse(
                status: status, headers: sink.headers, body: sink.body, droppedBodyBytes: sink.dropped,
                timings: timings, certificates: request.wantCertificates ? readCertificates() : []))
    }

    /// A POST (or `request.method`) that declares `declared` body bytes and sends none: libcurl sends the head with
    /// `Expect: 100-continue` and waits; a final answer ends the request as usual, and once the server asks for the
    /// body (100 Continue) libcurl calls the read callback, which aborts (CURLE_ABORTED_BY_CALLBACK).
    private func performHeadOnly(_ request: HTTPRequest, declared: Int64, context: UnsafeMutableRawPointer) -> CURLcode
    {
        // HTTP/1.1: over HTTP/2 nginx sends no 100 Continue and would wait for body frames until the timeout.
        _ = ccurl_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        _ = ccurl_setopt_long(handle, CURLOPT_POST, 1)
        _ = ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(declared))
        // Longer than the whole request may take: libcurl must not stop waiting and start the body by itself.
        _ = ccurl_setopt_long(handle, CURLOPT_EXPECT_100_TIMEOUT_MS, Int(request.timeout * 1000) + 1000)
        _ = ccurl_setopt_ptr(handle, CURLOPT_READDATA, context)
        _ = ccurl_setopt_read(handle, CURLOPT_READFUNCTION) { _, _, _, context in
            Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue().bodyAsked = true
            return Int(CURL_READFUNC_ABORT)
        }
        if request.method != "POST" { _ = ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method) }
        return curl_easy_perform(handle)
    }

    private func configure(
        _ request: HTTPRequest, context: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>
    ) {
        _ = ccurl_setopt_str(handle, CURLOPT_URL, request.url.absoluteString)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // A reused handle must still measure a full resolve, connect and handshake every time.
        _ = ccurl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_DNS_CACHE_TIMEOUT, 0)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_SESSIONID_CACHE, 0)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(request.connectTimeout * 1000)))
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout * 1000)))
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = ccurl_setopt_str(handle, CURLOPT_USERAGENT, "clearml-probe")
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, request.verifyTLS ? 1 : 0)
        _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0)
        if let caFile = request.caFile { _ = ccurl_setopt_str(handle, CURLOPT_CAINFO, caFile) }
        if request.wantCertificates { _ = ccurl_setopt_long(handle, CURLOPT_CERTINFO, 1) }
        if let connectTo = request.connectTo {
            // "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" with HOST and PORT empty: applies to any URL of this request.
            connectToList = curl_slist_append(nil, "::\(connectTo)")
            _ = ccurl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectToList)
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        let hasExpect = request.headers.contains(where: { $0.name.lowercased() == "expect" })
        if request.declaredBodyBytes != nil, !hasExpect {
            // The point of a declared body: the server judges the head and answers before any body byte.
            list = curl_slist_append(list, "Expect: 100-continue")
        } else if request.body != nil, !hasExpect {
            // No "Expect: 100-continue" round trip: it adds a wait that is not the server's latency.
            list = curl_slist_append(list, "Expect:")
        }
        if let list {
            headerList = list
            _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let room = max(0, sink.limit - sink.body.count)
            if room > 0, let data {
                data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                    sink.body.append(bytes, count: min(room, length))
                }
            }
            sink.dropped += max(0, length - room)
            return length
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
        _ = ccurl_setopt_write(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard let data else { return length }
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("HTTP/") {
                sink.headers.removeAll()  // a new response (after 100 Continue or a proxy's CONNECT)
                let words = line.split(separator: " ", maxSplits: 2)
                if words.count >= 2, let status = Int(words[1]) { sink.statuses.append(status) }
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                sink.headers.append((name: name, value: value))
            }
            return length
        }
    }

    private func readTimings(fallbackTotal: Double) -> HTTPTimings {
        func info(_ what: CURLINFO) -> Double {
            var value: curl_off_t = 0
            _ = ccurl_getinfo_off(handle, what, &value)
            return Double(value) / 1000
        }
        var timings = HTTPTimings(
            dns: info(CURLINFO_NAMELOOKUP_TIME_T), connect: info(CURLINFO_CONNECT_TIME_T),
            tls: info(CURLINFO_APPCONNECT_TIME_T), firstByte: info(CURLINFO_STARTTRANSFER_TIME_T),
            total: info(CURLINFO_TOTAL_TIME_T))
        if timings.total == 0 { timings.total = fallbackTotal }
        return timings
    }

    private func readCertificates() -> [PeerCertificate] {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard ccurl_getinfo_certinfo(handle, &info) == CURLE_OK, let info, let lists = info.pointee.certinfo else {
            return []
        }
        var certificates: [PeerCertificate] = []
        for index in 0..<Int(info.pointee.num_of_certs) {
            var fields: [String: String] = [:]
            var node = lists[index]
            while let current = node {
                if let data = current.pointee.data {
                    let entry = String(cString: data)
                    if let colon = entry.firstIndex(of: ":") {
                        fields[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
                    }
                }
                node = current.pointee.next
            }
            certificates.append(
                PeerCertificate(
                    subject: fields["Subject"] ?? "", issuer: fields["Issuer"] ?? "",
                    notBefore: fields["Start date"].flatMap(Self.parseCertificateDate),
                    notAfter: fields["Expire date"].flatMap(Self.parseCertificateDate)))
        }
        return certificates
    }

    /// OpenSSL prints `Jan  5 00:00:00 2027 GMT`; some builds print `2027-01-05 00:00:00 GMT`.
    static func parseCertificateDate(_ text: String) -> Date? {
        // Fixed English month names and GMT: read by hand, as a DateFormatter would keep ICU's locale data resident.
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count == 3 || words.count == 5, words.last == "GMT" else { return nil }
        if words.count == 3 {
            return UTCTimestamp.parseRFC3339(words[0] + "T" + words[1] + "Z")
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: words[0]), let day = Int(words[1]), let year = Int(words[3]),
            words[3].count == 4
        else { return nil }
        let clock = words[2].split(separator: ":", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard clock.count == 3, words[2].count == 8 else { return nil }
        let civil = CivilTime(
            year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2])
        guard civil.isValid else { return nil }
        return Date(timeIntervalSince1970: Double(civil.secondsSince1970))
    }

    static func kind(of code: CURLcode) -> HTTPFailure.Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_CONNECT: .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST: .nameResolution
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR:
            .tls
        case CURLE_GOT_NOTHING: .emptyReply
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR: .connectionReset
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL: .protocolError
        default: .other
        }
    }

    /// The phase a timed-out request was in, from the cumulative timings that did complete.
    static func phase(_ timings: HTTPTimings) -> String {
        if timings.connect == 0 { return timings.dns == 0 ? "name resolution or connect" : "connect" }
        if timings.firstByte == 0 { return "the first byte of the response" }
        return "the rest of the response"
    }
}
