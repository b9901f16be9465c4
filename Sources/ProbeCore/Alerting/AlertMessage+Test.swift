import Foundation

extension AlertMessage {
    /// The message `clearml-probe notify test` sends: clearly a test, with a fresh id each time.
    public static func test(instance: String, now: Date, statusURL: String?) -> AlertMessage {
        let id =
            "msg_"
            + SHA256.hex(
                Array("test#\(instance)#\(now.timeIntervalSince1970)#\(UInt64.random(in: 0...UInt64.max))".utf8)
            ).prefix(32)
        return AlertMessage(
            messageID: String(id), incidentID: "\(instance)/test", event: .test, severity: .ok, service: .apiserver,
            title: "Test message from clearml-probe",
            summary: "If you can read this, alerts from clearml-probe reach this destination. Nothing is broken.",
            startedAt: now, createdAt: now, statusURL: statusURL, instance: instance)
    }
}
