import Foundation
import NativeClients
import ProbeCore

/// `webserver.ui`: the UI is served (`/`, `/configuration.json`) and the webserver's own proxies reach the apiserver
/// (`/api/debug.ping`) and the fileserver (`/files/`, trailing slash needed: docs/clearml-api.md, "Calls").
public struct WebserverUICheck: Check {
    public var url: URL

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        guard let url = config.services.webserver else {
            return .notConfigured("no webserver address (set CLEARML_PROBE_WEBSERVER_URL)")
        }
        return .ready(WebserverUICheck(url: url))
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let steps = [
            HTTPExpectation(
                target: "index", what: "UI page", request: context.directRequest(url: url.appendingPathComponent("")),
                body: .html, dependsOn: []),
            HTTPExpectation(
                target: "configuration", what: "configuration.json",
                request: context.directRequest(url: url.appendingPathComponent("configuration.json")), body: .json,
                dependsOn: [.result("webserver.ui/index")]),
            HTTPExpectation(
                target: "api", what: "the webserver's /api proxy",
                request: context.directRequest(
                    method: "POST", url: url.appendingPathComponent("api/debug.ping"),
                    headers: [("Content-Type", "application/json")], body: Data("{}".utf8)),
                body: .clearmlPing, upstream: .apiserver,
                dependsOn: [.result("webserver.ui/index"), .service(.apiserver)]),
            HTTPExpectation(
                target: "files", what: "the webserver's /files proxy",
                request: context.directRequest(url: url.appendingPathComponent("files/")), body: .text("OK"),
                upstream: .fileserver, dependsOn: [.result("webserver.ui/index"), .service(.fileserver)]),
        ]
        return await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (index, step) in steps.enumerated() {
                group.addTask { (index, await step.run(context, builder: ResultBuilder(id: .webserverUI))) }
            }
            var results: [(Int, CheckResult)] = []
            for await item in group { results.append(item) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
