import Foundation
import ProbeCore
import Testing

@Suite("Alert routing")
struct AlertRoutesTests {
    static let all = ["chat", "pagerduty", "am", "data-team"]

    static func routes(_ yaml: String, known: Set<String>? = Set(all)) throws -> AlertRoutes {
        let root = try ConfigMap.parse(
            yaml: yaml, file: "alerts.yaml", substitution: EnvironmentSubstitution(environment: [:]))
        let routes = try AlertRoutes.parse(try root.section("routes"), destinations: known)
        try root.finish()
        return routes
    }

    static let yaml = """
        routes:
          default: [chat]
          rules:
            - name: data-critical
              layers: [data]
              severities: [critical]
              destinations: [pagerduty, data-team]
              continue: true
            - name: mongo-writes
              checks: [mongo.write]
              destinations: [am]
            - name: anything-critical
              severities: critical
              destinations: [pagerduty]
            - name: edge
              services: [nginx]
              checks: ["ingress.routes/api", "ingress.tls"]
              destinations: [chat, am]
        """

    @Test(
        "table: subject → destinations",
        arguments: [
            (
                AlertSubject(service: .redis, severity: .critical, checks: ["redis.write"]),
                ["pagerduty", "data-team"], ["data-critical", "anything-critical"]
            ),
            (
                AlertSubject(service: .mongo, severity: .critical, checks: ["mongo.write"]),
                ["pagerduty", "data-team", "am"], ["data-critical", "mongo-writes"]
            ),
            (AlertSubject(service: .mongo, severity: .warning, checks: ["mongo.status"]), ["chat"], ["default"]),
            (
                AlertSubject(service: .mongo, severity: .warning, checks: ["mongo.status", "mongo.write"]), ["am"],
                ["mongo-writes"]
            ),
            (
                AlertSubject(service: .apiserver, severity: .critical, checks: ["apiserver.ping"]), ["pagerduty"],
                ["anything-critical"]
            ),
            (
                AlertSubject(service: .nginx, severity: .warning, checks: ["ingress.routes/api"]), ["chat", "am"],
                ["edge"]
            ),
            (AlertSubject(service: .nginx, severity: .warning, checks: ["ingress.routes/web"]), ["chat"], ["default"]),
            (
                AlertSubject(service: .nginx, severity: .unknown, checks: ["ingress.tls/public"]), ["chat", "am"],
                ["edge"]
            ),
            (AlertSubject(service: .agents, severity: .unknown, checks: []), ["chat"], ["default"]),
        ])
    func table(_ subject: AlertSubject, _ expected: [String], _ rules: [String]) throws {
        let routes = try Self.routes(Self.yaml)
        #expect(routes.destinations(for: subject, all: Self.all) == expected)
        #expect(routes.explain(subject) == rules)
    }

    @Test func withoutRoutesEveryDestinationGetsEverything() throws {
        let subject = AlertSubject(service: .redis, severity: .warning)
        #expect(AlertRoutes.everything.destinations(for: subject, all: Self.all) == Self.all)
        let noDefault = try Self.routes(
            "routes:\n  rules:\n    - severities: [critical]\n      destinations: [pagerduty]\n")
        #expect(noDefault.destinations(for: subject, all: Self.all) == Self.all)
        #expect(
            noDefault.destinations(for: AlertSubject(service: .redis, severity: .critical), all: Self.all) == [
                "pagerduty"
            ])
    }

    @Test(
        "bad routes are located errors",
        arguments: [
            (
                "routes:\n  default: [chat, slack2]\n",
                "alerts.yaml:2:12: routes.default: 'slack2' is not a destination (configured: am, chat, data-team, pagerduty)"
            ),
            (
                "routes:\n  rules:\n    - layers: [database]\n      destinations: [chat]\n",
                "alerts.yaml:3:15: routes.rules[0].layers: 'database' is not one of: ingress, application, data, execution"
            ),
            (
                "routes:\n  rules:\n    - checks: [redis.writes]\n      destinations: [chat]\n",
                "alerts.yaml:3:15: routes.rules[0].checks: 'redis.writes' is not a check"
            ),
            (
                "routes:\n  rules:\n    - severities: [ok]\n      destinations: [chat]\n",
                "alerts.yaml:3:19: routes.rules[0].severities: 'ok' never pages"
            ),
            (
                "routes:\n  rules:\n    - layers: [data]\n",
                "alerts.yaml:3:7: routes.rules[0]: 'destinations' is required"
            ),
            (
                "routes:\n  rules:\n    - layers: [data]\n      destination: [chat]\n      destinations: [chat]\n",
                "alerts.yaml:4:7: unknown key 'destination' in routes.rules[0]"
            ),
            ("routes:\n  rule: []\n", "alerts.yaml:2:3: unknown key 'rule' in routes"),
        ])
    func badRoutes(_ yaml: String, _ expected: String) {
        do {
            _ = try Self.routes(yaml)
            Issue.record("expected \(expected)")
        } catch {
            #expect("\(error)".hasPrefix(expected), "got \(error)")
        }
    }

    @Test func checkPatterns() {
        #expect(AlertSelector.pattern("redis.write", matches: "redis.write"))
        #expect(AlertSelector.pattern("ingress.routes", matches: "ingress.routes/api"))
        #expect(!AlertSelector.pattern("ingress.routes/api", matches: "ingress.routes/web"))
        #expect(AlertSelector.pattern("redis.*", matches: "redis.status"))
        #expect(!AlertSelector.pattern("redis.write", matches: "redis.writes"))
    }
}
