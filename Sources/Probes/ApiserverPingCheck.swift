import Foundation
import NativeClients
import ProbeCore

/// `apiserver.ping`: `debug.ping` straight to the apiserver. Liveness only: it touches no database (docs/clearml-api.md, "Calls").
public struct ApiserverPingCheck: Check {
    public var url: URL

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        guard let url = config.services.apiserver else {
            return .notConfigured("no apiserver address (set CLEARML_PROBE_APISERVER_URL)")
        }
        return .ready(ApiserverPingCheck(url: url))
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let request = context.directRequest(
            method: "POST", url: url.appendingPathComponent("debug.ping"),
            headers: [("Content-Type", "application/json")], body: Data("{}".utf8))
        let expectation = HTTPExpectation(
            target: "", what: "debug.ping", request: request, body: .clearmlPing, dependsOn: [])
        return [await expectation.run(context, builder: ResultBuilder(id: .apiserverPing))]
    }
}
