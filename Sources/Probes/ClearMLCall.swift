import Foundation
import NativeClients
import ProbeCore

/// One way to the apiserver's API: straight to the service (`services.apiserver_url`) or through the ingress
/// (`ingress.api_url`). Results of the two are separate targets, so an ingress fault is told apart from the API's.
public struct ClearMLEndpoint: Sendable, Equatable {
    public var target: String
    public var base: URL
    public var viaIngress: Bool

    public init(target: String, base: URL, viaIngress: Bool) {
        self.target = target
        self.base = base
        self.viaIngress = viaIngress
    }

    public static let directTarget = "direct"
    public static let ingressTarget = "ingress"

    /// Every configured way to the API, direct first (the path without a proxy decides what the apiserver says).
    public static func all(_ config: ProbeConfig) -> [ClearMLEndpoint] {
        var out: [ClearMLEndpoint] = []
        if let url = config.services.apiserver {
            out.append(ClearMLEndpoint(target: directTarget, base: url, viaIngress: false))
        }
        if let url = config.ingress.api {
            out.append(ClearMLEndpoint(target: ingressTarget, base: url, viaIngress: true))
        }
        return out
    }

    /// "the apiserver at host:port", "the ingress at host".
    public func place(_ config: ProbeConfig) -> String {
        viaIngress
            ? "the ingress at \(HTTPWords.place(base, connectTo: config.ingress.connectTo))"
            : "the apiserver at \(HTTPWords.place(base))"
    }
}

/// How a call authenticates.
public enum ClearMLAuth: Sendable {
    case none
    /// `auth.login` only: key and secret (every other Basic call writes `last_used` in Mongo).
    case basic(ProbeConfig.Credentials)
    case bearer(Secret)

    var header: (name: String, value: String)? {
        switch self {
        case .none: nil
        case .basic(let credentials): ("Authorization", "Basic " + Self.basicValue(credentials).exposed)
        case .bearer(let token): ("Authorization", "Bearer " + token.exposed)
        }
    }

    var isBearer: Bool { if case .bearer = self { true } else { false } }

    /// The base64 `key:secret` of a Basic header: a secret in its own right, redacted like the key and secret.
    public static func basicValue(_ credentials: ProbeConfig.Credentials) -> Secret {
        Secret(Data("\(credentials.accessKey.exposed):\(credentials.secretKey.exposed)".utf8).base64EncodedString())
    }
}

/// One apiserver call: `POST /<service.action>` with a JSON body (docs/clearml-api.md, "Calls"), bounded by the check's deadline.
public struct ClearMLCall: Sendable {
    public var endpoint: ClearMLEndpoint
    public var action: String
    public var body: Data
    public var auth: ClearMLAuth
    /// Where the call goes, for people ("the apiserver at apiserver:8008").
    public var place: String
    /// The largest reply kept; a longer one is a finding naming `maxReplyKey`, never "not a ClearML envelope".
    public var maxReplyBytes: Int = ClearMLCall.defaultMaxReply
    /// The config key that raises `maxReplyBytes` (`checks.agents.workers.max_reply`).
    public var maxReplyKey: String?

    public static let defaultMaxReply = 1024 * 1024

    /// `max_reply` of a check's options: a size (`16mb`), between 64 KB and 256 MB.
    public static func maxReply(_ options: ConfigMap, default defaultValue: Int) throws -> Int {
        guard let text = try options.string("max_reply") else { return defaultValue }
        guard let bytes = ByteSize.parse(text) else {
            throw options.error(key: "max_reply", "'\(text)' is not a size (use a number with a unit: 512kb, 16mb)")
        }
        guard (64 * 1024...256 * 1024 * 1024).contains(Int(bytes)) else {
            throw options.error(key: "max_reply", "must be between 64kb and 256mb (got \(text))")
        }
        return Int(bytes)
    }

    public init(
        _ action: String, on endpoint: ClearMLEndpoint, parameters: [String: any Sendable] = [:], auth: ClearMLAuth,
        config: ProbeConfig
    ) {
        self.endpoint = endpoint
        self.action = action
        self.body = (try? JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys])) ?? Data("{}".utf8)
        self.auth = auth
        self.place = endpoint.place(config)
    }

    /// "auth.login on the apiserver at apiserver:8008".
    public var words: String { "\(action) \(endpoint.viaIngress ? "through" : "on") \(place)" }

    func request(_ context: CheckContext) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let header = auth.header { headers.append(header) }
        let url = endpoint.base.appendingPathComponent(action)
        var request =
            endpoint.viaIngress
            ? context.ingressRequest(method: "POST", url: url, headers: headers, body: body)
            : context.directRequest(method: "POST", url: url, headers: headers, body: body)
        request.maxBodyBytes = maxReplyBytes
        return request
    }

    /// Sends the call, leaving `reserve` seconds of the deadline unused (for a `debug.ping` that explains a timeout).
    /// A success is HTTP 200 with an envelope whose `result_code` is 200; everything else is a `ClearMLProblem`.
    public func send(
        _ context: CheckContext, reserve: Double = 0, basicLoginWorked: Bool = false,
        redactor: Redactor
    ) async -> Result<(envelope: ClearMLEnvelope, response: HTTPResponse), ClearMLProblem> {
        var data: JSONValue = .null
        let reply = await send(context, reserve: reserve, basicLoginWorked: basicLoginWorked, redactor: redactor) {
            data = try $0.value()
        }
        return reply.map { reply in
            var envelope = reply.envelope
            envelope.data = data
            return (envelope, reply.response)
        }
    }

    /// `send`, handing the reply's `data` to `readData` unbuilt (`ClearMLEnvelope.scan`): for replies too big for a
    /// tree. What `readData` gathered counts only on success; the envelope's `data` is null.
    public func send(
        _ context: CheckContext, reserve: Double = 0, basicLoginWorked: Bool = false, redactor: Redactor,
        readData: (inout JSONScanner) throws -> Void
    ) async
        -> Result<(envelope: ClearMLEnvelope, response: HTTPResponse), ClearMLProblem>
    {
        var request = request(context)
        let budget = context.remaining - reserve
        guard budget > 0.01 else {
            return .failure(
                ClearMLProblem(
                    status: .critical, summary: "\(words): not sent, the check's deadline was used up by earlier steps",
                    hint: "Raise this check's timeout, or see which earlier step was slow.",
                    isTimeout: true, code: "timeout"))
        }
        request.timeout = min(request.timeout, budget)
        request.connectTimeout = min(request.connectTimeout, request.timeout)
        let started = ContinuousClock.now
        switch await context.send(request) {
        case .failure(let failure):
            let waited = started.duration(to: .now).milliseconds / 1000
            return .failure(ClearMLProblem.transport(failure, call: self, waited: waited, redactor: redactor))
        case .success(let response):
            if response.droppedBodyBytes > 0 {
                let size = ByteSize.format(Double(response.body.count + response.droppedBodyBytes))
                let cap = ByteSize.format(Double(maxReplyBytes))
                let key = maxReplyKey ?? "the check's max_reply"
                return .failure(
                    ClearMLProblem(
                        status: .unknown,
                        summary: "the reply of \(action) (\(size)) exceeds \(cap): raise \(key)",
                        hint: "The apiserver answered; the probe keeps at most \(cap) of a reply. "
                            + "Set \(key) above \(size) (e.g. \(ByteSize.format(Double(2 * (response.body.count + response.droppedBodyBytes))).replacingOccurrences(of: " ", with: "").lowercased())).",
                        timings: response.timings, code: "reply too large"))
            }
            if response.status == 200, let envelope = ClearMLEnvelope.scan(response.body, data: readData),
                envelope.resultCode == 200
            {
                return .success((envelope, response))
            }
            return .failure(
                ClearMLProblem.answer(response, call: self, basicLoginWorked: basicLoginWorked, redactor: redactor))
        }
    }

    /// `debug.ping` on the same path within `budget` seconds: true when the process answers, false when it does not,
    /// nil when there was no time to ask.
    public static func ping(_ endpoint: ClearMLEndpoint, _ context: CheckContext, budget: Double) async -> Bool? {
        let budget = min(budget, context.remaining)
        guard budget > 0.02 else { return nil }
        let call = ClearMLCall("debug.ping", on: endpoint, auth: .none, config: context.config)
        var request = call.request(context)
        request.timeout = budget
        request.connectTimeout = budget
        guard case .success(let response) = await context.send(request), response.status == 200,
            let envelope = ClearMLEnvelope(body: response.body)
        else { return false }
        return envelope.data["msg"]?.string == "ClearML server"
    }
}
