import Foundation
import NativeClients
import ProbeCore

/// `ingress.upload_limit`: the files host accepts an upload of `expected_upload` bytes, measured without uploading.
///
/// The check sends the head of an upload the SDK's way (`POST <files host>/`, multipart) with `Content-Length:
/// <expected_upload>` and `Expect: 100-continue`, and no body. nginx compares `client_max_body_size` with the declared
/// length before it reads any body: too large is `413` at once; otherwise it asks for the body with `100 Continue`,
/// and the probe closes the connection there. With nginx's default `proxy_request_buffering on` the fileserver never
/// sees the request; with it off, at most the head and a closed connection (the fileserver parses the whole form
/// before it stores a file, so nothing is stored). Cost per run: one request head, no body, no credentials.
public struct IngressUploadLimitCheck: Check {
    public var files: URL
    /// Bytes declared in `Content-Length` (`expected_upload`).
    public var expected: Int64

    public static let defaultExpected = "512mb"
    static let multipartType = "multipart/form-data; boundary=clearml-probe-upload-limit"

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let text = try options.string("expected_upload", default: defaultExpected)
        guard let bytes = ByteSize.parse(text) else {
            throw options.error(
                key: "expected_upload", "'\(text)' is not a size (use a number with a unit: 512mb, 2gb)")
        }
        guard bytes >= 1024, bytes <= 1_099_511_627_776 else {
            throw options.error(key: "expected_upload", "must be between 1kb and 1tb (got \(text))")
        }
        guard let files = config.ingress.files else {
            return .notConfigured(
                "no files host (set CLEARML_FILES_HOST): the limit is the ingress's, in front of the fileserver")
        }
        return .ready(IngressUploadLimitCheck(files: files, expected: Int64(bytes)))
    }

    public init(files: URL, expected: Int64) {
        self.files = files
        self.expected = expected
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .ingressUploadLimit)
        var request = context.ingressRequest(
            method: "POST", url: files.appendingPathComponent(""),
            headers: [("Content-Type", Self.multipartType)])
        request.declaredBodyBytes = expected
        let place = HTTPWords.place(files, connectTo: context.config.ingress.connectTo)
        let size = ByteSize.format(Double(expected))
        let metrics = ["expected_upload_bytes": Double(expected)]
        switch await context.send(request) {
        case .failure(let failure):
            let words =
                failure.kind == .timeout && failure.phase != "connect"
                ? "no answer to the head of a \(size) upload from \(place) within \(Durations.format(seconds: context.settings.timeout)): it neither refused the size nor asked for the body (100 Continue), so its limit is not known"
                : HTTPWords.failure(failure, at: place, timeout: context.settings.timeout)
            return [
                builder.result(
                    target: "files", status: .unknown, summary: "upload limit not checked: " + words,
                    hint: failure.kind == .timeout && failure.phase != "connect"
                        ? "nginx answers a declared upload at once; a proxy that passes the head on and waits does not. Disable this check for such an ingress."
                        : "See ingress.routes/files.",
                    metrics: metrics, timings: failure.timings, error: context.redact(failure.description),
                    dependsOn: [.result("ingress.routes/files")], reachabilityFailure: failure.isReachability)
            ]
        case .success(let response):
            let verdict = Self.judge(
                status: response.status, fromNginx: Self.fromNginx(response), size: size, place: place)
            return [
                builder.result(
                    target: "files", service: verdict.service, status: verdict.status, summary: verdict.summary,
                    hint: verdict.hint, metrics: metrics.merging(["status_code": Double(response.status)]) { $1 },
                    timings: response.timings,
                    evidence: verdict.status == .ok ? nil : context.redact(HTTPWords.excerpt(response)),
                    dependsOn: verdict.dependsOn)
            ]
        }
    }

    struct Verdict: Equatable {
        var status: Status
        var summary: String
        var hint: String?
        /// nil: the check's own service (nginx).
        var service: Service?
        var dependsOn: [Dependency]
    }

    /// Pure: what the answer to the head of an upload of `size` says about the ingress's limit.
    static func judge(status: Int, fromNginx: Bool, size: String, place: String) -> Verdict {
        let route: [Dependency] = [.result("ingress.routes/files")]
        switch status {
        case 100:
            return Verdict(
                status: .ok,
                summary:
                    "\(place) asks for the body of a \(size) upload (100 Continue): its limit is at least \(size); no body was sent",
                dependsOn: route)
        case 413 where fromNginx:
            // nginx decides on the declared length alone, before any upstream is involved: its own finding.
            return Verdict(
                status: .critical,
                summary:
                    "\(place) refuses a \(size) upload at once (HTTP 413 from nginx): its client_max_body_size is below \(size), so models and artifacts that large fail to upload with 413 Request Entity Too Large",
                hint:
                    "Raise client_max_body_size for the files host (0 = no limit; ingress-nginx: the nginx.ingress.kubernetes.io/proxy-body-size annotation), or set checks.ingress.upload_limit.expected_upload to the largest upload you expect. nginx logs \"client intended to send too large body\" for each refused upload.",
                dependsOn: [])
        case 413:
            return Verdict(
                status: .critical,
                summary:
                    "\(place) refuses a \(size) upload at once (HTTP 413, not nginx's page): a body size limit below \(size) in front of the fileserver or in it",
                hint:
                    "Raise the limit of whatever answers the files host (a proxy's body size limit, or the fileserver's fileserver.upload.max_upload_size_mb), or set checks.ingress.upload_limit.expected_upload to the largest upload you expect.",
                dependsOn: [])
        case 502, 503, 504:
            return Verdict(
                status: .unknown,
                summary:
                    "upload limit not known: \(place) answered the head of a \(size) upload with HTTP \(status): the ingress gets no answer from the fileserver",
                hint: "See ingress.routes/files and the fileserver.", dependsOn: route + [.service(.fileserver)])
        default:
            return Verdict(
                status: .unknown,
                summary:
                    "upload limit not known: \(place) answered the head of a \(size) upload with HTTP \(status) before any body, neither 413 nor 100 Continue",
                hint: status == 401 || status == 403
                    ? "Something in front of the fileserver answers uploads before their body (an auth layer); the size limit cannot be read this way."
                    : "The SDK uploads with POST to the files host's root; see ingress.routes/files for where that goes.",
                dependsOn: route)
        }
    }

    /// nginx's own error pages end with `<center>nginx…</center>`; its `Server` header may be hidden or renamed.
    static func fromNginx(_ response: HTTPResponse) -> Bool {
        response.text.contains("<center>nginx") || response.header("server")?.lowercased().hasPrefix("nginx") == true
    }
}
