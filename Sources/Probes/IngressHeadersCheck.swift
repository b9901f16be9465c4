import Foundation
import NativeClients
import ProbeCore

/// `ingress.headers`: the hardening the ingress promises is still there on every route — HSTS on HTTPS, nosniff, a
/// frame policy, a referrer policy, and no version in `Server`. Missing hardening is a warning, not an outage.
public struct IngressHeadersCheck: Check {
    public var endpoints: [(target: String, url: URL)]
    public var missingStatus: Status

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let missingStatus = try options.choice("missing_status", default: Status.warning)
        let endpoints = [("web", config.ingress.web), ("api", config.ingress.api), ("files", config.ingress.files)]
            .compactMap { name, url in url.map { (target: name, url: $0) } }
        guard !endpoints.isEmpty else {
            return .notConfigured("no public address (set CLEARML_WEB_HOST, CLEARML_API_HOST, CLEARML_FILES_HOST)")
        }
        return .ready(IngressHeadersCheck(endpoints: endpoints, missingStatus: missingStatus))
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask { (index, await check(endpoint.target, endpoint.url, context)) }
            }
            var results: [(Int, CheckResult)] = []
            for await item in group { results.append(item) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func check(_ target: String, _ url: URL, _ context: CheckContext) async -> CheckResult {
        let builder = ResultBuilder(id: .ingressHeaders)
        // The headers of a route ride on that route's own result, not on whichever other route failed first.
        let routeDependency: [Dependency] = [.result("ingress.routes/\(target)")]
        let place = HTTPWords.place(url, connectTo: context.config.ingress.connectTo)
        let path = target == "api" ? url.appendingPathComponent("debug.ping") : url.appendingPathComponent("")
        switch await context.send(context.ingressRequest(url: path)) {
        case .failure(let failure):
            return builder.result(
                target: target, status: .unknown,
                summary: "headers not checked: "
                    + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                timings: failure.timings, error: context.redact(failure.description),
                dependsOn: routeDependency, reachabilityFailure: failure.isReachability)
        case .success(let response):
            let missing = Self.missing(response, https: url.scheme?.lowercased() == "https")
            let metrics = ["missing_headers": Double(missing.count)]
            if missing.isEmpty {
                return builder.result(
                    target: target, status: .ok, summary: "security headers present on \(place)",
                    metrics: metrics, timings: response.timings, dependsOn: routeDependency)
            }
            return builder.result(
                target: target, status: missingStatus,
                summary: "\(place) lacks: \(missing.joined(separator: "; "))",
                hint: "Restore the security headers in the ingress config (add_header … always) and server_tokens off.",
                metrics: metrics, timings: response.timings,
                evidence: response.headers.map { "\($0.name): \($0.value)" }.joined(separator: " | "),
                dependsOn: routeDependency)
        }
    }

    /// What is missing, in words; empty when the response is hardened.
    public static func missing(_ response: HTTPResponse, https: Bool) -> [String] {
        var missing: [String] = []
        if https, response.header("strict-transport-security") == nil { missing.append("Strict-Transport-Security") }
        if response.header("x-content-type-options")?.lowercased() != "nosniff" {
            missing.append("X-Content-Type-Options: nosniff")
        }
        let csp = response.header("content-security-policy")?.lowercased() ?? ""
        if response.header("x-frame-options") == nil && !csp.contains("frame-ancestors") {
            missing.append("a frame policy (X-Frame-Options or CSP frame-ancestors)")
        }
        if response.header("referrer-policy") == nil { missing.append("Referrer-Policy") }
        if let server = response.header("server"), server.contains("/"),
            server.rangeOfCharacter(from: .decimalDigits) != nil
        {
            missing.append("a Server header without version (found '\(server)')")
        }
        return missing
    }
}
