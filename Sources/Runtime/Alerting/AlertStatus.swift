import Foundation
import ProbeCore

/// What alerting is doing, for `/status`, the status page and `clearml-probe alerts dead-letters`. Codable with
/// snake_case keys through `json()`; no URL or secret in it (destination addresses are redacted).
public struct AlertStatus: Sendable, Codable, Equatable {
    public var paging: Bool
    public var graceEndsAt: Date
    public var incidents: [Incident]
    public var destinations: [DestinationState]
    public var outbox: [Queued]
    public var deadLetters: [Dead]
    public var deadLettersEvicted: Int
    public var delivered: Int
    public var droppedStale: Int

    public struct Incident: Sendable, Codable, Equatable {
        public var incidentId: String
        public var service: Service
        public var severity: Status
        public var summary: String
        public var startedAt: Date
        public var notified: Bool
        public var flapping: Bool
        public var unconfirmed: Bool
        public var symptoms: Int
    }

    public struct DestinationState: Sendable, Codable, Equatable {
        public var name: String
        public var kind: String
        public var url: String
        public var queued: Int
        public var disabled: String?
        public var pausedUntil: Date?
    }

    public struct Queued: Sendable, Codable, Equatable {
        public var destination: String
        public var messageId: String
        public var incidentId: String
        public var event: String
        public var attempts: Int
        public var nextAttemptAt: Date
        public var lastError: String?
    }

    public struct Dead: Sendable, Codable, Equatable {
        public var destination: String
        public var messageId: String
        public var incidentId: String
        public var event: String
        public var title: String
        public var reason: String
        public var attempts: Int
        public var deadAt: Date
    }

    public func json(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
