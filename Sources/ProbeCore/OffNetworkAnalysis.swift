/// One finding for a probe that reaches none of the stack's services directly: it runs off the stack's network, or
/// with the wrong addresses. Without this pass every store it cannot resolve or connect to is a root cause of its own
/// (a `run` on a host outside the stack lists five). Pure; runs after the root-cause analysis.
///
/// It applies when no direct result (every service but the ingress, and no check that reads only the probe's own
/// filesystem) is OK, and the root causes among them are all "could not connect from here" failures of at least two
/// services. The first such root cause keeps its place with the words for the whole picture; the others become its
/// symptoms. Results through the ingress are judged as before: a public address may well answer.
public enum OffNetworkAnalysis {
    /// Checks that touch no network address of the stack.
    static let local: Set<CheckID> = [.fileserverVolume]

    public static func collapse(_ results: [CheckResult]) -> [CheckResult] {
        let direct = results.filter { $0.service != .nginx && !local.contains($0.id) }
        guard !direct.contains(where: { $0.status == .ok }) else { return results }
        let causes = direct.filter { $0.role == .rootCause || $0.role == .unconfirmedRootCause }
        let services = Service.dependencyOrder.filter { service in causes.contains { $0.service == service } }
        guard causes.count >= 2, services.count >= 2, causes.allSatisfy(\.reachabilityFailure),
            let primary = causes.first
        else { return results }
        let merged = Set(causes.map(\.key))
        let names = services.map(\.displayName).joined(separator: ", ")
        return results.map { result in
            var result = result
            if result.key == primary.key {
                result.role = .rootCause
                result.rootCause = nil
                result.summary =
                    "the probe reaches none of the stack's services (\(names)): it runs off the stack's network, "
                    + "or with the wrong addresses, or the whole stack is down; first: \(primary.summary)"
                result.hint =
                    "Run the probe on the stack's network (compose: the backend network) or give it the addresses the "
                    + "apiserver uses (CLEARML_PROBE_APISERVER_URL, CLEARML_MONGODB_SERVICE_HOST, CLEARML_REDIS_SERVICE_HOST, "
                    + "CLEARML_ELASTIC_SERVICE_HOST); if the addresses are right, the stack is not running."
            } else if merged.contains(result.key) {
                result.role = .symptom
                result.rootCause = primary.key
            } else if let cause = result.rootCause, merged.contains(cause) {
                result.rootCause = primary.key
            }
            return result
        }
    }
}
