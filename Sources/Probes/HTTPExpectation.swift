import Foundation
import NativeClients
import ProbeCore

/// The usual shape of an HTTP liveness step: send, then judge status, body and latency.
/// Shared by `ingress.routes`, `apiserver.ping` and `webserver.ui`, which differ only in what they expect.
public struct HTTPExpectation: Sendable {
    public enum Body: Sendable {
        /// 200 with an HTML page (the UI).
        case html
        /// 200 with any JSON document.
        case json
        /// 200 with the apiserver's `debug.ping` envelope, `data.msg == "ClearML server"`.
        case clearmlPing
        /// 200 with exactly this text (the fileserver's `OK`).
        case text(String)

        var words: String {
            switch self {
            case .html: "an HTML page"
            case .json: "a JSON document"
            case .clearmlPing: "the apiserver's debug.ping envelope (data.msg \"ClearML server\")"
            case .text(let text): "'\(text)'"
            }
        }
    }

    public var target: String
    /// "the api route through nginx", "debug.ping on the apiserver".
    public var what: String
    public var request: HTTPRequest
    public var body: Body
    /// The service a gateway error (502/503/504) points at, when nginx (or the webserver's nginx) is in between.
    public var upstream: Service?
    public var service: Service?
    public var dependsOn: [Dependency]?
    public var provides: [Service]

    public init(
        target: String, what: String, request: HTTPRequest, body: Body, upstream: Service? = nil,
        service: Service? = nil, dependsOn: [Dependency]? = nil, provides: [Service] = []
    ) {
        self.target = target
        self.what = what
        self.request = request
        self.body = body
        self.upstream = upstream
        self.service = service
        self.dependsOn = dependsOn
        self.provides = provides
    }

    public func run(_ context: CheckContext, builder: ResultBuilder) async -> CheckResult {
        let place = HTTPWords.place(request.url, connectTo: request.connectTo)
        let started = ContinuousClock.now
        switch await context.send(request) {
        case .failure(let failure):
            let waited = started.duration(to: .now)
            let seconds = waited.seconds
            return builder.result(
                target: target, service: service, status: .critical,
                summary: "\(what): " + HTTPWords.failure(failure, at: place, timeout: seconds),
                hint: hint(for: failure), timings: failure.timings, error: context.redact(failure.description),
                dependsOn: failure.kind == .tls ? tlsDependencies(builder) : dependsOn,
                reachabilityFailure: failure.isReachability)
        case .success(let response):
            return judge(response, context: context, builder: builder, place: place)
        }
    }

    func judge(_ response: HTTPResponse, context: CheckContext, builder: ResultBuilder, place: String) -> CheckResult {
        let metrics = ["status_code": Double(response.status)]
        func result(_ status: Status, _ summary: String, hint: String? = nil) -> CheckResult {
            builder.result(
                target: target, service: service, status: status, summary: "\(what): \(summary)", hint: hint,
                metrics: metrics, timings: response.timings,
                evidence: status == .ok ? nil : context.redact(HTTPWords.excerpt(response)),
                dependsOn: dependsOn, provides: status == .ok ? provides : [])
        }
        if HTTPWords.isGatewayError(response.status) {
            let upstreamName = upstream?.displayName ?? "the upstream"
            let meaning = response.status == 504 ? "timed out waiting for" : "could not get an answer from"
            return result(
                .critical, "\(response.status) from \(place): the proxy \(meaning) \(upstreamName)",
                hint: "Check that \(upstreamName) runs and that the proxy's upstream address and network reach it.")
        }
        if response.status == 429 {
            return result(
                .warning, "429 rate limited at \(place)",
                hint: "The ingress rate limit is hit; raise it or find the client that floods it.")
        }
        if response.status == 401 || response.status == 403 {
            return result(
                .critical, "\(response.status) from \(place): the probe is refused",
                hint: "An allow-list or auth in front of this route refuses the probe; allow its address.")
        }
        guard response.status == 200 else {
            return result(.critical, "HTTP \(response.status) from \(place), expected 200 with \(body.words)")
        }
        if let problem = bodyProblem(response) {
            return result(
                .critical, "\(place) answered 200 but not \(body.words): \(problem)",
                hint: "Something else answers at this address: check the routing (Host names, upstream ports).")
        }
        let milliseconds = response.timings.total
        let summary = "200 in \(Durations.format(seconds: milliseconds / 1000))"
        if milliseconds / 1000 > context.settings.slowWarning {
            return result(
                .warning, "slow: \(summary), above \(Durations.format(seconds: context.settings.slowWarning))",
                hint: "Compare the phase timings: connect is the network, first byte is the service.")
        }
        return result(.ok, summary)
    }

    func bodyProblem(_ response: HTTPResponse) -> String? {
        switch body {
        case .html:
            return HTTPWords.looksLikeHTML(response) ? nil : "content-type \(response.header("content-type") ?? "none")"
        case .json:
            return JSONValue.parse(response.body) == nil ? "the body is not JSON" : nil
        case .clearmlPing:
            guard let envelope = ClearMLEnvelope(body: response.body) else {
                return "the body is not a ClearML envelope"
            }
            let message = envelope.data["msg"]?.string
            return message == "ClearML server" ? nil : "data.msg is \(message.map { "'\($0)'" } ?? "missing")"
        case .text(let expected):
            return response.text.trimmingCharacters(in: .whitespacesAndNewlines) == expected
                ? nil : "the body is not '\(expected)'"
        }
    }

    /// A refused certificate is ingress.tls's finding: a handshake failure here is its symptom when that check fails too.
    func tlsDependencies(_ builder: ResultBuilder) -> [Dependency] {
        let base = dependsOn ?? (service ?? builder.id.service).dependencies.map(Dependency.service)
        // A route's own certificate first (ingress.tls names its results after the routes), else any TLS finding.
        let own: [Dependency] =
            builder.id == .ingressRoutes ? [.result("\(CheckID.ingressTLS.rawValue)/\(target)")] : []
        return base + own + [.check(.ingressTLS)]
    }

    func hint(for failure: HTTPFailure) -> String {
        switch failure.kind {
        case .connectionRefused: "Is the container running and listening on that port?"
        case .nameResolution: "Check the host name, and that the probe is on the same network as the service."
        case .timeout:
            failure.phase == "connect"
                ? "A firewall drops packets, or the host is down."
                : "The service accepts connections but does not answer: it may be overloaded or stuck."
        case .tls: "See ingress.tls for the certificate."
        default: "The peer broke the connection; see its logs."
        }
    }
}
