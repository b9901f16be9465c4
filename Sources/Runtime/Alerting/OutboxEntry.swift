import Foundation
import ProbeCore

/// One message waiting for one destination. Its identity (the message id) never changes, so a retry or a resend
/// after a crash carries the same webhook-id.
public struct OutboxEntry: Sendable, Codable, Equatable {
    public var message: AlertMessage
    public var destination: String
    public var enqueuedAt: Date
    public var attempts: Int = 0
    public var nextAttemptAt: Date
    public var lastError: String?

    public init(message: AlertMessage, destination: String, enqueuedAt: Date) {
        self.message = message
        self.destination = destination
        self.enqueuedAt = enqueuedAt
        self.nextAttemptAt = enqueuedAt
    }

    public var id: String { "\(destination)/\(message.messageID)" }
    /// Order is kept within a lane: one destination, one incident.
    public var lane: String { "\(destination)|\(message.incidentID)" }
}
