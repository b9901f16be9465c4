/// Root causes over the fixed topology (docs/architecture.md, "Topology"). Pure: results in, results with roles out.
///
/// - A failing result whose dependencies are all healthy is a root cause.
/// - A failing result with a dependency that is down (a critical result there) is a symptom of that dependency's
///   root cause. Only critical results explain others: a slow Redis does not make a broken route its symptom.
/// - A failing result over a dependency with no usable result is an unconfirmed root cause.
/// - A connectivity failure of a service that another OK result proves working is "unreachable from the probe".
public enum RootCauseAnalysis {
    enum NodeState { case up, down, unknown }

    public static func analyse(_ input: [CheckResult]) -> [CheckResult] {
        var results = input
        markUnreachableFromProbe(&results)

        let order = results.indices.sorted { a, b in
            let sa = results[a].service.dependencyRank
            let sb = results[b].service.dependencyRank
            if sa != sb { return sa < sb }
            if results[a].id != results[b].id { return results[a].id < results[b].id }
            return a < b
        }
        for index in order {
            var result = results[index]
            guard result.status != .ok, result.role != .unreachableFromProbe else {
                if result.status == .ok { result.role = .healthy }
                results[index] = result
                continue
            }
            var cause: CheckResult?
            var unknownDependency = false
            for dependency in result.dependsOn {
                let candidates = results.filter { matches($0, dependency) && $0.key != result.key }
                switch state(of: candidates, provenBy: results, dependency) {
                case .down:
                    if cause == nil { cause = candidates.first { $0.status == .critical } }
                case .unknown:
                    unknownDependency = true
                case .up:
                    break
                }
            }
            if let cause {
                result.role = .symptom
                result.rootCause = cause.rootCause ?? cause.key
            } else {
                result.role = unknownDependency ? .unconfirmedRootCause : .rootCause
                result.rootCause = nil
            }
            results[index] = result
        }
        return OffNetworkAnalysis.collapse(chaseRootCauses(results))
    }

    /// Points every symptom at the end of its chain, whatever order the results were analysed in.
    static func chaseRootCauses(_ input: [CheckResult]) -> [CheckResult] {
        var results = input
        let byKey = Dictionary(input.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for index in results.indices {
            var seen: Set<String> = [results[index].key]
            while let next = results[index].rootCause, let target = byKey[next], target.role == .symptom,
                let further = target.rootCause, seen.insert(further).inserted
            {
                results[index].rootCause = further
            }
        }
        return results
    }

    public static func rootCauseKeys(_ results: [CheckResult]) -> [String] {
        results.filter { $0.role == .rootCause || $0.role == .unconfirmedRootCause }
            .enumerated()
            .sorted { a, b in
                if a.element.status != b.element.status { return a.element.status > b.element.status }
                if a.element.role != b.element.role { return a.element.role == .rootCause }
                return a.offset < b.offset
            }
            .map(\.element.key)
    }

    public static func overallStatus(_ results: [CheckResult]) -> Status {
        Status.worst(results.filter { $0.role != .symptom }.map(\.status))
    }

    public static func matches(_ result: CheckResult, _ dependency: Dependency) -> Bool {
        switch dependency {
        case .service(let service): result.service == service
        case .check(let id): result.id == id
        case .result(let key): result.key == key
        }
    }

    /// A service with no result of its own is still up when an OK result elsewhere proves it works (`provides`).
    static func state(of candidates: [CheckResult], provenBy all: [CheckResult], _ dependency: Dependency) -> NodeState
    {
        if candidates.isEmpty, case .service(let service) = dependency,
            all.contains(where: { $0.status == .ok && $0.provides.contains(service) })
        {
            return .up
        }
        return state(of: candidates)
    }

    static func state(of results: [CheckResult]) -> NodeState {
        if results.contains(where: { $0.status == .critical && $0.role != .unreachableFromProbe }) { return .down }
        // Another check proved the service works, even though the probe cannot reach it itself.
        if results.contains(where: { $0.role == .unreachableFromProbe }) { return .up }
        if results.isEmpty || results.allSatisfy({ $0.status == .unknown }) { return .unknown }
        return .up
    }

    static func markUnreachableFromProbe(_ results: inout [CheckResult]) {
        for index in results.indices where results[index].status != .ok && results[index].reachabilityFailure {
            let service = results[index].service
            guard let witness = results.first(where: { $0.status == .ok && $0.provides.contains(service) }) else {
                continue
            }
            results[index].role = .unreachableFromProbe
            results[index].status = .unknown
            results[index].summary =
                "\(service.displayName) is unreachable from the probe, but \(witness.key) shows it "
                + "serves the stack (\(results[index].summary))"
            results[index].hint = "Join the probe to the network of \(service.displayName), or give its address."
        }
    }
}
