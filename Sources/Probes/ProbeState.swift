import Foundation
import ProbeCore

/// What checks remember between runs: counter samples (judged by their change), a reusable token, and when a
/// rate-limited action last happened. The sidecar keeps one for its life; `run` loads it from the state directory
/// when given one. Persisted as JSON (`probe-state.json`).
public actor ProbeState {
    public struct Snapshot: Codable, Sendable, Equatable {
        /// Counter samples keyed `<check key>/<counter>`, with when they were taken.
        public var samples: [String: Sample] = [:]
        /// Free-form remembered values (e.g. the last time a fresh token was used), keyed by check.
        public var marks: [String: Date] = [:]
        /// The targets of a check's latest successful run, keyed by check id: a failure before the targets are
        /// known is reported under the same keys, so what a failure opened, a success closes.
        public var targets: [String: [String]]? = nil

        public init() {}
    }

    public struct Sample: Codable, Sendable, Equatable {
        public var value: Double
        public var at: Date
    }

    private var snapshot: Snapshot
    /// The ClearML session token, shared by every check that calls the API; memory only, never persisted.
    public let tokens = TokenStore()
    /// Secrets are kept in memory only, never persisted.
    private var secrets: [String: (value: Secret, expires: Date)] = [:]

    public init(snapshot: Snapshot = Snapshot()) {
        self.snapshot = snapshot
    }

    public var current: Snapshot { snapshot }

    /// Records a counter and returns the previous sample, if any.
    @discardableResult
    public func exchangeSample(_ key: String, value: Double, at date: Date = Date()) -> Sample? {
        let previous = snapshot.samples[key]
        snapshot.samples[key] = Sample(value: value, at: date)
        return previous
    }

    public func mark(_ key: String) -> Date? { snapshot.marks[key] }

    public func setMark(_ key: String, _ date: Date = Date()) { snapshot.marks[key] = date }

    /// Sets or (with nil) removes a mark.
    public func updateMark(_ key: String, _ date: Date?) { snapshot.marks[key] = date }

    public func knownTargets(_ check: CheckID) -> [String] { snapshot.targets?[check.rawValue] ?? [] }

    public func setKnownTargets(_ check: CheckID, _ targets: [String]) {
        snapshot.targets = (snapshot.targets ?? [:]).merging([check.rawValue: targets]) { $1 }
    }

    public func secret(_ key: String, now: Date = Date()) -> Secret? {
        guard let entry = secrets[key], entry.expires > now else { return nil }
        return entry.value
    }

    public func setSecret(_ key: String, _ value: Secret, expires: Date) { secrets[key] = (value, expires) }

    // MARK: persistence

    public static func load(directory: String) -> ProbeState {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("probe-state.json")
        guard let data = try? Data(contentsOf: url),
            let snapshot = try? JSONDecoder.iso8601.decode(Snapshot.self, from: data)
        else { return ProbeState() }
        return ProbeState(snapshot: snapshot)
    }

    /// Writes atomically (temp file + rename) so a crash never leaves half a file.
    public func save(directory: String) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("probe-state.json")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let data = try JSONEncoder.iso8601.encode(snapshot)
        try data.write(to: url, options: .atomic)
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension JSONEncoder {
    static var iso8601: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
