import Foundation
import NativeClients
import ProbeCore

/// `ingress.tls`: the certificate of each HTTPS public address, leaf and earliest expiry in the chain
/// (warning under 20 days, critical under 3 or expired, docs/data-stores.md), and any verification failure named.
public struct IngressTLSCheck: Check {
    public var endpoints: [(target: String, url: URL)]
    public var warningDays: Double
    public var criticalDays: Double

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let warningDays = try options.double("warning_days", default: 20, range: 0...3650)
        let criticalDays = try options.double("critical_days", default: 3, range: 0...3650)
        guard criticalDays <= warningDays else {
            throw options.error(
                key: "critical_days", "must not exceed warning_days (\(DecimalText.shortest(warningDays)))")
        }
        var seen: Set<String> = []
        var endpoints: [(target: String, url: URL)] = []
        for (name, url) in [("web", config.ingress.web), ("api", config.ingress.api), ("files", config.ingress.files)] {
            guard let url, url.scheme?.lowercased() == "https" else { continue }
            let place = "\(url.host ?? ""):\(url.port ?? 443)"
            if seen.insert(place).inserted { endpoints.append((name, url)) }
        }
        guard !endpoints.isEmpty else {
            return .notConfigured(
                config.ingress.web == nil && config.ingress.api == nil && config.ingress.files == nil
                    ? "no public address (set CLEARML_WEB_HOST …)"
                    : "the ingress is plain HTTP (no https public address)")
        }
        return .ready(IngressTLSCheck(endpoints: endpoints, warningDays: warningDays, criticalDays: criticalDays))
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        var results: [CheckResult] = []
        for endpoint in endpoints {
            results.append(await check(endpoint.target, endpoint.url, context))
        }
        return results
    }

    func check(_ target: String, _ url: URL, _ context: CheckContext) async -> CheckResult {
        let builder = ResultBuilder(id: .ingressTLS)
        let place = HTTPWords.place(url, connectTo: context.config.ingress.connectTo)
        let request = context.ingressRequest(
            method: "HEAD", url: url.appendingPathComponent(""), wantCertificates: true)
        switch await context.send(request) {
        case .success(let response):
            return judge(
                response.certificates, target: target, place: place, timings: response.timings, builder: builder)
        case .failure(let failure) where failure.kind == .tls:
            // Verification failed: look again without verifying, only to show the dates as evidence.
            var look = request
            look.verifyTLS = false
            var evidence: String?
            if case .success(let unverified) = await context.send(look), let leaf = unverified.certificates.first {
                evidence =
                    "leaf \(leaf.subject), issuer \(leaf.issuer), valid \(leaf.notBefore.map(Self.day) ?? "?") to \(leaf.notAfter.map(Self.day) ?? "?")"
            }
            return builder.result(
                target: target, status: .critical,
                summary: "certificate of \(place) is refused: \(Self.reason(failure.message))",
                hint: Self.hint(failure.message), timings: failure.timings,
                error: context.redact(failure.description), evidence: evidence, dependsOn: [])
        case .failure(let failure):
            return builder.result(
                target: target, status: .critical,
                summary: "TLS not checked: " + HTTPWords.failure(failure, at: place, timeout: context.settings.timeout),
                timings: failure.timings, error: context.redact(failure.description), dependsOn: [],
                reachabilityFailure: failure.isReachability)
        }
    }

    func judge(_ chain: [PeerCertificate], target: String, place: String, timings: HTTPTimings, builder: ResultBuilder)
        -> CheckResult
    {
        guard let leaf = chain.first, let leafExpiry = leaf.notAfter else {
            return builder.result(
                target: target, status: .unknown, summary: "\(place) gave no certificate details to read expiry from",
                timings: timings, dependsOn: [])
        }
        let now = Date()
        let earliest = chain.compactMap(\.notAfter).min() ?? leafExpiry
        let earliestDays = earliest.timeIntervalSince(now) / 86400
        let metrics = [
            "leaf_expiry_seconds": leafExpiry.timeIntervalSince(now).rounded(),
            "chain_earliest_expiry_seconds": earliest.timeIntervalSince(now).rounded(),
        ]
        let which = earliest < leafExpiry ? "a chain certificate" : "the leaf certificate"
        let status: Status = earliestDays < criticalDays ? .critical : (earliestDays < warningDays ? .warning : .ok)
        let summary =
            status == .ok
            ? "certificate of \(place) valid for \(Int(earliestDays)) more days"
            : "\(which) of \(place) expires in \(DecimalText.fixed(earliestDays, places: 1)) days (\(Self.day(earliest)))"
        return builder.result(
            target: target, status: status, summary: summary,
            hint: status == .ok ? nil : "Renew the certificate and reload nginx.",
            metrics: metrics, timings: timings, dependsOn: [])
    }

    static func reason(_ message: String) -> String {
        let lower = message.lowercased()
        if lower.contains("expired") { return "it has expired" }
        if lower.contains("not yet valid") { return "it is not valid yet" }
        if lower.contains("subject name") || lower.contains("does not match") || lower.contains("alternative") {
            return "it does not name this host"
        }
        if lower.contains("issuer") || lower.contains("self signed") || lower.contains("self-signed")
            || lower.contains("unable to get local")
        {
            return "it is not signed by a trusted CA"
        }
        return message
    }

    static func hint(_ message: String) -> String {
        switch reason(message) {
        case "it has expired": "Renew the certificate and reload nginx."
        case "it does not name this host": "Issue a certificate whose SAN lists this host name."
        case "it is not signed by a trusted CA":
            "Install the full chain on nginx, or give the probe the CA file (ingress.ca_file)."
        default: "Check the certificate files nginx serves."
        }
    }

    static func day(_ date: Date) -> String { UTCTimestamp.day(date) }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
