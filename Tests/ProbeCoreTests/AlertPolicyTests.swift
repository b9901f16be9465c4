import Foundation
import ProbeCore
import Testing

@Suite struct AlertPolicyTests {
    static func parse(_ yaml: String, env: [String: String] = [:]) throws -> AlertPolicy {
        let root = try ConfigMap.parse(
            yaml: yaml, file: "alerts.yaml", substitution: EnvironmentSubstitution(environment: env))
        return try AlertPolicy.parse(try root.section("alerting"))
    }

    @Test func defaults() throws {
        let policy = try Self.parse("")
        #expect(policy == AlertPolicy())
        #expect(
            policy.fireAfter == 2 && policy.resolveAfter == 2 && policy.reminderInterval == 14400 && policy.grace == 180
        )
    }

    @Test func everyKey() throws {
        let policy = try Self.parse(
            """
            alerting:
              fire_after: 3
              resolve_after: 4
              reminder: 1h
              max_reminders: 2
              flapping: {changes: 8, window: 1h}
              grace: 5m
              status_url: http://probe.internal:9464/
              max_message_age: 6h
              max_outbox: 50
              max_dead_letters: 20
              max_state_entries: 100
            """)
        #expect(
            policy.fireAfter == 3 && policy.resolveAfter == 4 && policy.reminderInterval == 3600
                && policy.maxReminders == 2)
        #expect(policy.flappingChanges == 8 && policy.flappingWindow == 3600 && policy.grace == 300)
        #expect(policy.statusURL == "http://probe.internal:9464/")
        #expect(
            policy.maxMessageAge == 21600 && policy.maxOutbox == 50 && policy.maxDeadLetters == 20
                && policy.maxStateEntries == 100)
    }

    @Test func graceAndStatusURLFromTheEnvironment() throws {
        let policy = try Self.parse(
            "alerting: {}", env: ["CLEARML_PROBE_GRACE": "10m", "CLEARML_PROBE_STATUS_URL": "http://x:1/"])
        #expect(policy.grace == 600)
        #expect(policy.statusURL == "http://x:1/")
    }

    @Test(arguments: [
        ("alerting:\n  fire_after: 0\n", "alerts.yaml:2:15: alerting.fire_after: 0 is out of range (1…100)"),
        (
            "alerting:\n  reminder: 10s\n",
            "alerts.yaml:2:13: alerting.reminder: 10.0 s is too short (at least 1m, or 0s for none)"
        ),
        (
            "alerting:\n  fire_afer: 2\n",
            "alerts.yaml:2:3: unknown key 'fire_afer' in alerting (expected one of: fire_after, flapping, give_up_after, grace, max_dead_letters, max_message_age, max_outbox, max_reminders, max_state_entries, reminder, resolve_after, status_url)"
        ),
        (
            "alerting:\n  flapping: {changes: 1}\n",
            "alerts.yaml:2:23: alerting.flapping.changes: 1 is out of range (2…1000)"
        ),
    ])
    func errorsAreLocated(yaml: String, message: String) {
        #expect(throws: ConfigError.self) { try Self.parse(yaml) }
        do { _ = try Self.parse(yaml) } catch { #expect("\(error)" == message) }
    }
}
