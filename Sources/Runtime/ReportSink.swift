import Foundation
import ProbeCore

/// Receives every analysed report the sidecar produces (after each check run, the latest result of every check,
/// re-analysed as one report). The alerting pipeline is one; tests can add their own.
public protocol ReportSink: Sendable {
    func ingest(_ report: Report, at date: Date) async
}
