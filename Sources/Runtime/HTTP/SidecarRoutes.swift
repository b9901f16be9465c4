import Foundation

/// The endpoint's routes. Every route reads the latest snapshot; none probes.
///
/// `/healthz` is always open, without auth and from any peer: it tells only whether the scheduler is alive (no
/// result, no name), and the container healthcheck, Compose and an orchestrator's probe must reach it without a
/// credential. Every other route needs the configured token or basic credentials when auth is on, and changing
/// silences passes `SilenceGuard` too (credential or loopback, JSON, same origin, a Host naming this endpoint).
public struct SidecarRoutes: Sendable {
    let board: StatusBoard
    let health: any HealthSource
    let auth: HTTPAuth
    /// The alerting's silence endpoints (`/api/silences`), when the sidecar has a state directory.
    let silences: SilenceAPI?
    let silenceGuard: SilenceGuard

    public init(
        board: StatusBoard, health: any HealthSource, auth: HTTPAuth = .none, silences: SilenceAPI? = nil,
        silenceGuard: SilenceGuard = SilenceGuard()
    ) {
        self.board = board
        self.health = health
        self.auth = auth
        self.silences = silences
        self.silenceGuard = silenceGuard
    }

    public func handle(_ request: HTTPRequestHead) -> HTTPServerResponse {
        if request.path == SilenceAPI.path || request.path.hasPrefix(SilenceAPI.path + "/") {
            guard auth.allows(request.header("authorization")) else { return unauthorized() }
            if let (status, message) = silenceGuard.refusal(request, auth: auth) {
                return HTTPServerResponse(
                    status: status, headers: [("Content-Type", "application/json")] + common,
                    body: SilenceAPI.errorBody(message))
            }
            guard let silences,
                let answer = silences.handle(method: request.method, path: request.path, body: request.body)
            else {
                return HTTPServerResponse(
                    status: 404, contentType: "application/json",
                    text: #"{"error":"silences need a state directory (CLEARML_PROBE_STATE_DIR)"}"# + "\n",
                    headers: common)
            }
            var headers = [("Content-Type", answer.contentType)] + common
            if let allow = answer.allow { headers.append(("Allow", allow)) }
            return HTTPServerResponse(status: answer.status, headers: headers, body: answer.body)
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPServerResponse(
                status: 405, contentType: "text/plain; charset=utf-8", text: "only GET and HEAD\n",
                headers: [("Allow", "GET, HEAD")] + common)
        }
        if request.path == "/healthz" { return healthz() }
        guard auth.allows(request.header("authorization")) else { return unauthorized() }
        let snapshot = board.snapshot
        switch request.path {
        case "/", "/index.html":
            return HTTPServerResponse(
                status: 200, contentType: "text/html; charset=utf-8",
                text: StatusPage.render(snapshot, health: health.verdict),
                headers: [
                    ("Content-Security-Policy", StatusPage.contentSecurityPolicy),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
                ] + common)
        case "/metrics":
            return HTTPServerResponse(
                status: 200, contentType: MetricsExposition.contentType,
                text: MetricsExposition.render(snapshot, health: health.verdict), headers: common)
        case "/status":
            return HTTPServerResponse(
                status: snapshot.report == nil ? 503 : 200,
                headers: [("Content-Type", "application/json")] + common,
                body: StatusDocument.encode(snapshot, health: health.verdict))
        default:
            return HTTPServerResponse(
                status: 404, contentType: "text/plain; charset=utf-8", text: "not found\n", headers: common)
        }
    }

    func unauthorized() -> HTTPServerResponse {
        HTTPServerResponse(
            status: 401, contentType: "text/plain; charset=utf-8", text: "authentication required\n",
            headers: [("WWW-Authenticate", auth.challenge)] + common)
    }

    func healthz() -> HTTPServerResponse {
        let verdict = health.verdict
        return HTTPServerResponse(
            status: verdict.alive ? 200 : 503, contentType: "text/plain; charset=utf-8",
            text: (verdict.alive ? "ok" : verdict.reason) + "\n", headers: common)
    }

    private var common: [(String, String)] { [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")] }
}
