import Foundation
import NativeClients
import ProbeCore

/// `ingress.routes`: through nginx, each public route reaches the right upstream (web → HTML, api → debug.ping,
/// files → `OK`). A 502/504 from nginx points at the upstream; routing to the wrong place is nginx's fault.
public struct IngressRoutesCheck: Check {
    public enum Route: String, Sendable, CaseIterable {
        case web, api, files
    }

    public var routes: [(route: Route, url: URL)]

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let wanted = try options.stringList("routes") ?? Route.allCases.map(\.rawValue)
        var routes: [(route: Route, url: URL)] = []
        for name in wanted {
            guard let route = Route(rawValue: name) else {
                throw options.error(key: "routes", "'\(name)' is not a route (use web, api, files)")
            }
            let url: URL? =
                switch route {
                case .web: config.ingress.web
                case .api: config.ingress.api
                case .files: config.ingress.files
                }
            if let url { routes.append((route, url)) }
        }
        guard !routes.isEmpty else {
            return .notConfigured("no public address (set CLEARML_WEB_HOST, CLEARML_API_HOST, CLEARML_FILES_HOST)")
        }
        return .ready(IngressRoutesCheck(routes: routes))
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, entry) in routes.enumerated() {
                group.addTask {
                    let builder = ResultBuilder(id: .ingressRoutes)
                    return (
                        index, await Self.expectation(entry.route, entry.url, context).run(context, builder: builder)
                    )
                }
            }
            var results: [(Int, CheckResult)] = []
            for await item in group { results.append(item) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func expectation(_ route: Route, _ base: URL, _ context: CheckContext) -> HTTPExpectation {
        switch route {
        case .web:
            return HTTPExpectation(
                target: "web", what: "web route", request: context.ingressRequest(url: base.appendingPathComponent("")),
                body: .html, upstream: .webserver, dependsOn: [.service(.webserver)])
        case .api:
            return HTTPExpectation(
                target: "api", what: "api route",
                request: context.ingressRequest(
                    method: "POST", url: base.appendingPathComponent("debug.ping"),
                    headers: [("Content-Type", "application/json")], body: Data("{}".utf8)),
                body: .clearmlPing, upstream: .apiserver, dependsOn: [.service(.apiserver)])
        case .files:
            return HTTPExpectation(
                target: "files", what: "files route",
                request: context.ingressRequest(url: base.appendingPathComponent("")),
                body: .text("OK"), upstream: .fileserver, dependsOn: [.service(.fileserver)])
        }
    }
}
