import Foundation
import Testing

@testable import ProbeCore

@Suite("Environment substitution")
struct EnvironmentSubstitutionTests {
    let env = EnvironmentSubstitution(
        environment: ["A": "alpha", "EMPTY": "", "SECRET_FILE": "/secret", "PORT": "8008"],
        readFile: { path in
            guard path == "/secret" else { throw CocoaError(.fileNoSuchFile) }
            return "s3cr3t\n"
        })

    @Test(arguments: [
        ("${A}", "alpha"), ("x${A}y", "xalphay"), ("${MISSING}", ""), ("${MISSING:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${A:-dflt}", "alpha"), ("http://${HOST:-apiserver}:${PORT:-1}", "http://apiserver:8008"),
        ("${OUTER:-${A:-no}}", "alpha"), ("$$notvar", "$notvar"), ("cost $5", "cost $5"), ("${SECRET}", "s3cr3t"),
    ])
    func substitutes(_ input: String, _ expected: String) throws {
        #expect(try env.substitute(input) == expected)
    }

    @Test func requiredVariable() {
        #expect(throws: EnvironmentSubstitution.Failure.self) { try env.substitute("${NOPE:?set it}") }
        do {
            _ = try env.substitute("${NOPE:?set it}")
        } catch {
            #expect(error.description == "NOPE must be set: set it")
        }
    }

    @Test func unreadableSecretFileIsNamed() {
        let env = EnvironmentSubstitution(
            environment: ["TOKEN_FILE": "/nope"], readFile: { _ in throw CocoaError(.fileNoSuchFile) })
        do {
            _ = try env.substitute("${TOKEN}")
            Issue.record("expected a failure")
        } catch {
            #expect(error.description == "TOKEN_FILE names '/nope', which cannot be read")
        }
    }

    @Test func unterminated() {
        #expect(throws: EnvironmentSubstitution.Failure.self) { try env.substitute("${A") }
        #expect(throws: EnvironmentSubstitution.Failure.self) { try env.substitute("${A:x}") }
    }

    @Test("an environment value is data, never YAML")
    func noInjection() throws {
        let env = EnvironmentSubstitution(environment: ["EVIL": "x\nchecks: {bogus: 1}"])
        let map = try ConfigMap.parse(yaml: "probe:\n  instance: ${EVIL}\n", file: "t.yaml", substitution: env)
        let probe = try map.section("probe")
        #expect(try probe.string("instance") == "x\nchecks: {bogus: 1}")
    }
}

@Suite("Durations")
struct DurationTests {
    @Test(arguments: [
        ("250ms", 0.25), ("2s", 2.0), ("1.5s", 1.5), ("10m", 600.0), ("4h", 14400.0), ("1h30m", 5400.0),
        ("1d", 86400.0),
    ])
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try Durations.seconds(text) == seconds)
    }

    @Test(arguments: ["", "5", "s", "5 parsecs", "-1s", "1x"])
    func refuses(_ text: String) {
        #expect(throws: Durations.ParseError.self) { try Durations.seconds(text) }
    }
}

@Suite("Redaction")
struct RedactTests {
    @Test func webhookURLsKeepOnlyTheHost() {
        #expect(Redact.url("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com")
        #expect(
            Redact.url("https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t")
                == "https://chat.googleapis.com")
        #expect(Redact.url("http://127.0.0.1:9093/api/v2/alerts") == "http://127.0.0.1:9093")
    }

    @Test func userinfoAndSecretsAreRemoved() {
        let text = Redact.text(
            "failed mongodb://probe:hunter22@mongo:27017/x with key ABCDEF", secrets: [Secret("ABCDEF")])
        #expect(!text.contains("hunter22"))
        #expect(!text.contains("ABCDEF"))
        #expect(text.contains("mongo:27017"))
    }

    @Test func secretsPrintRedacted() {
        let secret = Secret("top")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }
}
