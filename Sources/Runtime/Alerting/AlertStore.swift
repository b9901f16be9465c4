import Foundation
import ProbeCore

/// The alerting state on disk: `<state dir>/alerting.json` holds the incident state machines and the outbox in one
/// document, so a message and the fact that it was queued can never disagree after a crash.
public struct AlertStore: Sendable {
    public static let fileName = "alerting.json"
    static let version = 1

    public let directory: String
    public var path: String { directory + "/" + Self.fileName }

    public struct Snapshot: Sendable, Codable, Equatable {
        public var version: Int
        public var alerting: AlertingState
        public var outbox: Outbox
        /// Which incidents paged and which are held by a silence or a maintenance window (absent in older files).
        public var paging: PagingLedger
        /// What each Alertmanager destination last took, for its re-sends (absent in older files).
        public var resends: AlertmanagerResends

        public init(
            alerting: AlertingState = AlertingState(), outbox: Outbox = Outbox(), paging: PagingLedger = PagingLedger(),
            resends: AlertmanagerResends = AlertmanagerResends()
        ) {
            self.version = AlertStore.version
            self.alerting = alerting
            self.outbox = outbox
            self.paging = paging
            self.resends = resends
        }

        enum CodingKeys: String, CodingKey { case version, alerting, outbox, paging, resends }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decode(Int.self, forKey: .version)
            alerting = try container.decode(AlertingState.self, forKey: .alerting)
            outbox = try container.decode(Outbox.self, forKey: .outbox)
            paging = try container.decodeIfPresent(PagingLedger.self, forKey: .paging) ?? PagingLedger()
            resends = try container.decodeIfPresent(AlertmanagerResends.self, forKey: .resends) ?? AlertmanagerResends()
        }
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(directory: String) { self.directory = directory }

    /// The saved snapshot, or an empty one when there is none yet. A file that cannot be read is an error, never
    /// silently replaced: it may hold incidents that still need their RESOLVED.
    public func load() throws -> Snapshot {
        guard FileManager.default.fileExists(atPath: path) else { return Snapshot() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let snapshot = try Self.decoder.decode(Snapshot.self, from: data)
            guard snapshot.version == Self.version else {
                throw LoadError(description: "\(path): version \(snapshot.version) is not \(Self.version)")
            }
            return snapshot
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(
                description: "\(path): cannot read the alert state (\(error)); move it aside to start afresh")
        }
    }

    public func save(_ snapshot: Snapshot) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(try Self.encoder.encode(snapshot), to: path)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}
