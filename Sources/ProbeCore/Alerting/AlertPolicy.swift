import Foundation

/// When to page, remind, call something flapping, and how much state to keep (`alerting:` in `alerts/alerts.yaml`).
public struct AlertPolicy: Sendable, Equatable {
    /// Consecutive non-OK results before a check fires.
    public var fireAfter: Int = 2
    /// Consecutive OK results before a firing check resolves.
    public var resolveAfter: Int = 2
    /// Seconds between reminders while an incident keeps firing; 0 turns reminders off.
    public var reminderInterval: Double = 4 * 3600
    /// Reminders per incident at most.
    public var maxReminders: Int = 6
    /// Unconfirmed status changes (blips; see `AlertStateMachine.observe`) within `flappingWindow` that make a check flapping.
    public var flappingChanges: Int = 6
    public var flappingWindow: Double = 30 * 60
    /// Seconds after start before anything pages (at least the stack's start period).
    public var grace: Double = 180
    /// The sidecar's status page, linked from every message.
    public var statusURL: String?
    /// A message older than this is stale; it is dropped only together with its pair (a firing with its resolved).
    public var maxMessageAge: Double = 12 * 3600
    /// A firing that could not be delivered for this long goes to the dead letters with its pair: the RESOLVED queued
    /// behind it, or the one still to come (never a RESOLVED alone).
    public var giveUpAfter: Double = 24 * 3600
    /// In a merged report, how long a failure waits for fresh evidence of its dependencies before it is judged on
    /// what there is (a dependency whose check cannot run again must not hold an outage back for ever).
    public var evidenceWait: Double = 60
    /// Caps on what the state directory keeps.
    public var maxOutbox: Int = 1000
    public var maxDeadLetters: Int = 200
    public var maxStateEntries: Int = 500

    public init() {}

    /// Fewer changes than this within the window end flapping (hysteresis, so it does not toggle).
    public var flappingStopsBelow: Int { max(1, flappingChanges / 2) }

    /// Reads `alerting:`; `CLEARML_PROBE_GRACE` (through the substitution's environment) applies when the file has no
    /// `grace`, and `CLEARML_PROBE_STATUS_URL` when it has no `status_url`.
    public static func parse(_ section: ConfigMap) throws -> AlertPolicy {
        var policy = AlertPolicy()
        policy.fireAfter = try section.int("fire_after", default: policy.fireAfter, range: 1...100)
        policy.resolveAfter = try section.int("resolve_after", default: policy.resolveAfter, range: 1...100)
        policy.reminderInterval = try section.duration("reminder", default: policy.reminderInterval)
        if policy.reminderInterval > 0, policy.reminderInterval < 60 {
            throw section.error(
                key: "reminder",
                "\(Durations.format(seconds: policy.reminderInterval)) is too short (at least 1m, or 0s for none)")
        }
        policy.maxReminders = try section.int("max_reminders", default: policy.maxReminders, range: 0...1000)
        let flapping = try section.section("flapping")
        policy.flappingChanges = try flapping.int("changes", default: policy.flappingChanges, range: 2...1000)
        policy.flappingWindow = try flapping.duration("window", default: policy.flappingWindow, minimum: 1)
        try flapping.finish()
        let environment = section.substitution
        if section.contains("grace") {
            policy.grace = try section.duration("grace", default: policy.grace)
        } else {
            section.consume("grace")
            if let text = try? environment.value(of: "CLEARML_PROBE_GRACE"), !text.isEmpty {
                do {
                    policy.grace = try Durations.seconds(text)
                } catch {
                    throw section.error(at: nil, "CLEARML_PROBE_GRACE: \(error.description)")
                }
            }
        }
        if let url = try section.url("status_url") {
            policy.statusURL = url.absoluteString
        } else if let text = try? environment.value(of: "CLEARML_PROBE_STATUS_URL"), !text.isEmpty {
            policy.statusURL = text
        }
        policy.maxMessageAge = try section.duration("max_message_age", default: policy.maxMessageAge, minimum: 60)
        policy.giveUpAfter = try section.duration("give_up_after", default: policy.giveUpAfter, minimum: 60)
        policy.maxOutbox = try section.int("max_outbox", default: policy.maxOutbox, range: 10...100_000)
        policy.maxDeadLetters = try section.int("max_dead_letters", default: policy.maxDeadLetters, range: 1...100_000)
        policy.maxStateEntries = try section.int(
            "max_state_entries", default: policy.maxStateEntries, range: 10...100_000)
        try section.finish()
        return policy
    }
}
