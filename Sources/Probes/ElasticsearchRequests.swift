import Foundation
import NativeClients
import ProbeCore

/// GETs to Elasticsearch as the probe makes them: `filter_path` on every call (only what is judged crosses the
/// wire), basic auth when configured, each bounded by what is left of the check's deadline; and ES's answers
/// turned into JSON or a named failure.
struct ElasticsearchRequests: Sendable {
    var store: ElasticsearchStore

    enum Failure: Error, Sendable {
        /// No HTTP answer.
        case transport(HTTPFailure)
        /// An HTTP answer that is not what was asked for.
        case status(Int, type: String?, reason: String?, excerpt: String)
        /// 200 that is not JSON.
        case notJSON(excerpt: String)
    }

    /// `GET path?query&filter_path=…`; `acceptStatuses` lists non-200 codes whose JSON body is still wanted
    /// (408 of a health wait).
    func get(
        _ path: String, query: [String: String] = [:], filterPath: [String], context: CheckContext,
        acceptStatuses: Set<Int> = []
    ) async -> Result<(status: Int, json: JSONValue), Failure> {
        var components = URLComponents(url: store.url, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = path
        var items = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        items.append(URLQueryItem(name: "filter_path", value: filterPath.joined(separator: ",")))
        components.queryItems = items
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let username = store.username, let password = store.password {
            headers.append(
                ("Authorization", "Basic " + Data("\(username):\(password.exposed)".utf8).base64EncodedString()))
        }
        let request = context.directRequest(url: components.url!, headers: headers, maxBodyBytes: 1024 * 1024)
        switch await context.send(request) {
        case .failure(let failure):
            return .failure(.transport(failure))
        case .success(let response):
            let json = JSONValue.parse(response.body)
            let excerpt = context.redact(HTTPWords.excerpt(response))
            if response.status == 200 || acceptStatuses.contains(response.status) {
                guard let json, json.object != nil else { return .failure(.notJSON(excerpt: excerpt)) }
                return .success((response.status, json))
            }
            return .failure(
                .status(
                    response.status, type: json?.at("error.type")?.string, reason: json?.at("error.reason")?.string,
                    excerpt: excerpt))
        }
    }

    /// A result for a request that failed; `what` names it (`GET /_cluster/health`).
    func result(_ failure: Failure, what: String, context: CheckContext, builder: ResultBuilder) -> CheckResult {
        let place = store.display
        switch failure {
        case .transport(let http):
            let seconds = context.settings.timeout
            let hint: String =
                switch http.kind {
                case .connectionRefused:
                    "Is the Elasticsearch container running? See its logs (heap, bootstrap checks, disk)."
                case .nameResolution:
                    "Check elasticsearch.host (CLEARML_ELASTIC_SERVICE_HOST) and that the probe is on the stack's network."
                case .timeout:
                    http.phase == "connect"
                        ? "A firewall drops packets, or the host is down."
                        : "Elasticsearch accepts connections but does not answer: long GC pauses (heap), or it is stuck; see its log."
                default: "See the Elasticsearch log."
                }
            return builder.result(
                status: .critical, summary: "\(what): " + HTTPWords.failure(http, at: place, timeout: seconds),
                hint: hint,
                error: context.redact(http.description), reachabilityFailure: http.isReachability)
        case .status(let code, let type, let reason, let excerpt):
            let detail = [type, reason].compactMap { $0 }.joined(separator: ": ")
            let words = "HTTP \(code)" + (detail.isEmpty ? "" : " \(detail)")
            if code == 401 || code == 403 {
                return builder.result(
                    status: .unknown, summary: "the probe is blind: \(what) refused with \(words)",
                    hint: "Give the probe the user the apiserver uses (CLEARML_ELASTIC_SERVICE_USERNAME / _PASSWORD).",
                    error: words, evidence: excerpt)
            }
            if code == 503 {
                return builder.result(
                    status: .critical, summary: "\(what): \(words): the cluster has no elected master",
                    hint: "ES cannot take writes without a master: see the node's log (discovery, disk, heap).",
                    error: words, evidence: excerpt)
            }
            if code == 429 {
                return builder.result(
                    status: .critical, summary: "\(what): \(words): Elasticsearch rejects requests (overloaded)",
                    hint: "Thread pools are full: see write rejections, heap and the cluster's load.", error: words,
                    evidence: excerpt)
            }
            return builder.result(
                status: .critical, summary: "\(what): unexpected \(words) from \(place)",
                hint: "Something else may answer there (a proxy?): check elasticsearch.host and port.", error: words,
                evidence: excerpt)
        case .notJSON(let excerpt):
            return builder.result(
                status: .critical, summary: "\(what): \(place) answered 200 but not JSON: this is not Elasticsearch",
                hint: "Something else listens on that address: check elasticsearch.host and port.", evidence: excerpt)
        }
    }
}

/// Cluster settings change rarely and are large: the probe fetches them once per `ttl` per cluster (footprint).
actor ElasticsearchSettingsCache {
    static let shared = ElasticsearchSettingsCache()

    struct Entry: Sendable {
        var persistent: [String: String]
        var transient: [String: String]
        var defaults: [String: String]
        var fetched: Date
    }

    private var entries: [String: Entry] = [:]

    func get(_ key: String, ttl: Double, now: Date = Date()) -> Entry? {
        guard let entry = entries[key], now.timeIntervalSince(entry.fetched) < ttl else { return nil }
        return entry
    }

    func set(_ key: String, _ entry: Entry) { entries[key] = entry }

    func clear() { entries.removeAll() }
}
