import Foundation
import Notifiers
import ProbeCore

/// What each Alertmanager destination last took, per incident, so the pipeline can post it again before Alertmanager
/// forgets it. Alertmanager is stateless: it resolves an alert on its own when `endsAt` passes and loses everything
/// on a restart. So, as Prometheus does (docs/chat-platforms.md, "Alertmanager"), a firing alert is re-posted every resend interval
/// while its incident is open (each post moves `endsAt` to now + 4 × the interval), and a RESOLVED is re-posted for
/// 15 minutes after the resolution.
///
/// Prometheus takes 4 × max(evaluation interval, resend delay) because it only re-sends when it evaluates; here the
/// delivery loop re-sends on its own timer, whatever the check intervals are, so 4 × the resend interval is enough.
///
/// A re-send is queued only to its destination, into the incident's lane (so it never overtakes a RESOLVED queued
/// there), with a fresh message id, and only when that lane is empty: a queued message carries a fresh `endsAt`
/// anyway when it is finally sent. Codable: it lives in the state directory beside the outbox.
public struct AlertmanagerResends: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        /// The last message this destination took for the incident (as first queued: its id is the base of the
        /// re-sends' ids).
        public var message: AlertMessage
        public var destination: String
        /// When it last took the incident (the message or a re-send), or a re-send was last queued: at most one
        /// re-send per interval, even when they fail.
        public var lastSent: Date
        /// Re-sends queued so far; numbers their ids.
        public var count: Int
    }

    /// lane (`destination|incident`) → what it last took.
    public var items: [String: Item] = [:]

    public init() {}

    static func lane(_ destination: String, _ incident: String) -> String { "\(destination)|\(incident)" }

    /// The id of the `n`th re-send of a message.
    public static func resendID(_ base: String, _ n: Int) -> String { "\(base)-resend-\(n)" }

    /// Records a delivery to an Alertmanager destination.
    public mutating func delivered(_ entry: OutboxEntry, at now: Date) {
        guard entry.message.event != .test else { return }
        let lane = entry.lane
        if var item = items[lane], entry.message.messageID.hasPrefix(item.message.messageID + "-resend-") {
            item.lastSent = now
            items[lane] = item
            return
        }
        items[lane] = Item(
            message: entry.message, destination: entry.destination, lastSent: now, count: items[lane]?.count ?? 0)
    }

    /// Records a message of the lane that was given up (dead letter): a RESOLVED that cannot be posted ends the
    /// re-sends (Alertmanager lets the alert lapse at its `endsAt`).
    public mutating func refused(_ entry: OutboxEntry) {
        if entry.message.event == .resolved { items[entry.lane] = nil }
    }

    /// The re-sends due at `now`, as (destination, message) to queue; forgets what is over: a RESOLVED past its
    /// window, an incident that closed without a RESOLVED queued, a destination gone or disabled.
    public mutating func due(
        now: Date, destinations: [String: AlertmanagerDestination], openIncidents: Set<String>,
        laneBusy: (String) -> Bool, disabled: (String) -> Bool
    ) -> [(destination: String, message: AlertMessage)] {
        var result: [(String, AlertMessage)] = []
        for lane in items.keys.sorted() {
            guard var item = items[lane] else { continue }
            guard let destination = destinations[item.destination], !disabled(item.destination) else {
                items[lane] = nil
                continue
            }
            if laneBusy(lane) { continue }
            if item.message.event == .resolved {
                let resolvedAt = item.message.resolvedAt ?? item.lastSent
                if now.timeIntervalSince(resolvedAt) >= AlertmanagerDestination.resolvedResendWindow {
                    items[lane] = nil
                    continue
                }
            } else if !openIncidents.contains(item.message.incidentID) {
                items[lane] = nil
                continue
            }
            guard destination.needsResend(item.message, lastSent: item.lastSent, now: now) else { continue }
            item.count += 1
            var copy = item.message
            copy.messageID = Self.resendID(item.message.messageID, item.count)
            copy.createdAt = now
            item.lastSent = now
            items[lane] = item
            result.append((item.destination, copy))
        }
        return result
    }

    /// When the next re-send may fall due, for the delivery loop's sleep.
    public func nextResend(destinations: [String: AlertmanagerDestination]) -> Date? {
        items.values.compactMap { item in
            destinations[item.destination].map { item.lastSent.addingTimeInterval($0.config.resendInterval) }
        }.min()
    }
}
