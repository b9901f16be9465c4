import Foundation
import ProbeCore

/// A message a destination refused for good (or that could not be kept): shown by `/status` and
/// `clearml-probe alerts dead-letters`, never dropped silently.
public struct DeadLetter: Sendable, Codable, Equatable {
    public var message: AlertMessage
    public var destination: String
    public var reason: String
    public var attempts: Int
    public var enqueuedAt: Date
    public var deadAt: Date

    public init(entry: OutboxEntry, reason: String, at date: Date) {
        self.message = entry.message
        self.destination = entry.destination
        self.reason = reason
        self.attempts = entry.attempts
        self.enqueuedAt = entry.enqueuedAt
        self.deadAt = date
    }
}
