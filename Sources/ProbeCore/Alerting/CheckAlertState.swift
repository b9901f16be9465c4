import Foundation

/// The alert state of one check result key (`redis.write`, `ingress.routes/api`): what has been seen, whether it
/// fires, at which severity, and whether it flaps. Codable: it lives in the state directory across restarts.
public struct CheckAlertState: Sendable, Codable, Equatable {
    public enum Phase: String, Sendable, Codable {
        /// Healthy, or failing fewer than `fireAfter` times in a row.
        case ok
        /// Failing `fireAfter` times in a row, and not yet `resolveAfter` OK results since.
        case firing
    }

    public var phase: Phase = .ok
    /// Consecutive non-OK statuses, newest last (bounded by `fireAfter`); emptied by an OK.
    public var recentBad: [Status] = []
    /// Consecutive OK results (while firing: towards `resolveAfter`).
    public var goodStreak: Int = 0
    /// The confirmed severity while firing.
    public var severity: Status = .ok
    /// When the current run of failures began.
    public var failingSince: Date?
    public var lastStatus: Status?
    public var lastSeen: Date
    /// Times of status changes within the flapping window.
    public var changes: [Date] = []
    public var flapping: Bool = false
    /// The root-cause service this key's failure was last attributed to (its own, or its root cause's).
    public var incidentService: Service?
    /// When the newest observed sample was taken (its `startedAt`).
    public var sampleAt: Date?
    /// When the sample that began the current run of failures was taken; nil while healthy.
    public var failingSampleAt: Date?
    /// When the newest sample that changed between OK and not OK was taken.
    public var changedSampleAt: Date?
    /// Consecutive samples on the same side of OK (all OK, or all not OK).
    public var streak: Int?
    /// When a failing sample of this key was first held back for want of fresh evidence (before its failure was
    /// observed, so `failingSince` cannot bound the wait); nil once an OK is observed.
    public var heldSince: Date?

    public init(lastSeen: Date) { self.lastSeen = lastSeen }

    /// Contributes to an incident: confirmed firing, or flapping (unstable is not healthy).
    public var isActive: Bool { phase == .firing || flapping }
}
