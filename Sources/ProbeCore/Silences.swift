import Foundation

/// A silence: until it expires, incidents it covers do not page (their checks still run and show).
/// Silences live in the state directory (`silences.json`), not in `alerts.yaml`, so people add them at run time
/// with `clearml-probe silence add`.
public struct Silence: Sendable, Equatable, Codable {
    public var id: String
    public var matcher: Matcher
    public var reason: String
    public var createdAt: Date
    public var expiresAt: Date
    /// Who added it (a user name), when known.
    public var createdBy: String?

    /// One check (`redis.write`, `ingress.routes/api`, `redis.*`), one service (`redis`) or one layer (`data`).
    public struct Matcher: Sendable, Equatable, Codable, CustomStringConvertible {
        public enum Kind: String, Sendable, Codable, CaseIterable { case check, service, layer }
        public var kind: Kind
        public var value: String

        public init(kind: Kind, value: String) {
            self.kind = kind
            self.value = value
        }

        /// Reads `redis`, `data`, `redis.write`, `ingress.routes/api`, `redis.*`, or an explicit `service:redis`.
        public static func parse(_ text: String) throws(Silences.Failure) -> Matcher {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let colon = trimmed.firstIndex(of: ":") {
                let kindText = String(trimmed[..<colon])
                let value = String(trimmed[trimmed.index(after: colon)...])
                guard let kind = Kind(rawValue: kindText) else {
                    throw Silences.Failure("'\(kindText)' is not check, service or layer")
                }
                let matcher = Matcher(kind: kind, value: value)
                if let problem = matcher.problem { throw Silences.Failure(problem) }
                return matcher
            }
            if Service(rawValue: trimmed) != nil { return Matcher(kind: .service, value: trimmed) }
            if Layer(rawValue: trimmed) != nil { return Matcher(kind: .layer, value: trimmed) }
            let matcher = Matcher(kind: .check, value: trimmed)
            if let problem = matcher.problem {
                throw Silences.Failure(
                    "'\(trimmed)' is not a check, a service (\(Service.allCases.map(\.rawValue).joined(separator: ", "))) or a layer (\(Layer.allCases.map(\.rawValue).joined(separator: ", "))): \(problem)"
                )
            }
            return matcher
        }

        var problem: String? {
            switch kind {
            case .service: Service(rawValue: value) == nil ? "'\(value)' is not a service" : nil
            case .layer: Layer(rawValue: value) == nil ? "'\(value)' is not a layer" : nil
            case .check: value.isEmpty ? "empty check" : AlertSelector.problem(withCheckPattern: value)
            }
        }

        public var selector: AlertSelector {
            switch kind {
            case .service: AlertSelector(services: Service(rawValue: value).map { [$0] } ?? [])
            case .layer: AlertSelector(layers: Layer(rawValue: value).map { [$0] } ?? [])
            case .check: AlertSelector(checks: [value])
            }
        }

        public var description: String { "\(kind.rawValue) \(value)" }
    }

    public init(
        id: String, matcher: Matcher, reason: String, createdAt: Date, expiresAt: Date, createdBy: String? = nil
    ) {
        self.id = id
        self.matcher = matcher
        self.reason = reason
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.createdBy = createdBy
    }

    public func isActive(at date: Date) -> Bool { createdAt <= date && date < expiresAt }

    enum CodingKeys: String, CodingKey {
        case id
        case matcher = "match"
        case reason
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case createdBy = "created_by"
    }
}

/// The silences of one state directory: a pure value; `SilenceFile` (Runtime) reads and writes it.
public struct Silences: Sendable, Equatable, Codable {
    public var silences: [Silence]

    /// At most this many silences are kept. When that many are active or pending a new one is refused: a flood of
    /// junk silences must not push the real ones out. Expired ones make room, oldest first.
    public static let cap = 500
    /// Longest match and creator name a silence may carry.
    public static let maxMatchLength = 200
    public static let maxCreatorLength = 100
    /// The longest silence; a longer quiet is a maintenance window or a config change.
    public static let maximumDuration: Double = 30 * 86400
    /// Expired silences are kept this long for `silence list`, then pruned.
    public static let keepExpired: Double = 7 * 86400

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        /// The cap is reached by silences still in force.
        public var isFull: Bool
        public init(_ description: String, isFull: Bool = false) {
            self.description = description
            self.isFull = isFull
        }
    }

    public init(silences: [Silence] = []) { self.silences = silences }

    public func active(at date: Date) -> [Silence] { silences.filter { $0.isActive(at: date) } }

    /// Adds a silence; `id` is generated by the caller (random in production, fixed in tests).
    @discardableResult
    public mutating func add(
        match: String, duration: Double, reason: String, createdBy: String? = nil, now: Date,
        id: String = Silences.newID()
    ) throws(Failure) -> Silence {
        guard match.count <= Self.maxMatchLength else {
            throw Failure("the match is longer than \(Self.maxMatchLength) characters")
        }
        if let createdBy, createdBy.count > Self.maxCreatorLength {
            throw Failure("created_by is longer than \(Self.maxCreatorLength) characters")
        }
        let matcher = try Silence.Matcher.parse(match)
        guard duration.isFinite, duration > 0 else { throw Failure("the duration must be positive") }
        guard duration <= Self.maximumDuration else {
            throw Failure("a silence lasts at most 30d (use a maintenance window in alerts.yaml for longer)")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw Failure("a reason is required (say why, for the people who see it)") }
        guard reason.count <= 500 else { throw Failure("the reason is longer than 500 characters") }
        let silence = Silence(
            id: id, matcher: matcher, reason: reason, createdAt: now,
            expiresAt: now.addingTimeInterval(duration), createdBy: createdBy)
        prune(now: now)
        if silences.count >= Self.cap {
            let inForce = silences.filter { $0.expiresAt > now }.count
            guard inForce < Self.cap else {
                throw Failure(
                    "\(inForce) silences are in force, the most kept; remove some (clearml-probe silence remove ID) before adding one",
                    isFull: true)
            }
            var expired = silences.indices.filter { silences[$0].expiresAt <= now }.sorted {
                silences[$0].expiresAt < silences[$1].expiresAt
            }
            expired = Array(expired.prefix(silences.count - Self.cap + 1))
            for index in expired.sorted(by: >) { silences.remove(at: index) }
        }
        silences.append(silence)
        return silence
    }

    /// Removes a silence by id (or unique id prefix); returns it.
    public mutating func remove(id: String) throws(Failure) -> Silence {
        let exact = silences.firstIndex { $0.id == id }
        let candidates = silences.indices.filter { silences[$0].id.hasPrefix(id) }
        guard let index = exact ?? (candidates.count == 1 ? candidates.first : nil) else {
            throw Failure(
                candidates.count > 1 ? "'\(id)' names several silences; give more of the id" : "no silence '\(id)'")
        }
        return silences.remove(at: index)
    }

    /// Drops silences expired longer than `keepExpired` ago.
    public mutating func prune(now: Date) {
        silences.removeAll { $0.expiresAt.addingTimeInterval(Self.keepExpired) < now }
    }

    public static func newID() -> String {
        "s-" + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
    }

    // MARK: - JSON (the silences.json file and the sidecar's API)

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public func encoded() throws -> Data { try Self.encoder.encode(self) }

    public static func decode(_ data: Data) throws -> Silences {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return Silences() }
        return try decoder.decode(Silences.self, from: data)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Whether something covers a subject: a selector matching the subject as a whole (service, layer, severity), or
/// every failing check of the subject matched by some selector (one silenced check of three does not quiet Redis).
public enum Suppression {
    public static func covers(_ subject: AlertSubject, selectors: [AlertSelector]) -> Bool {
        if selectors.isEmpty { return false }
        if subject.checks.isEmpty { return selectors.contains { $0.matches(subject) } }
        return subject.checks.allSatisfy { check in
            let one = AlertSubject(service: subject.service, severity: subject.severity, checks: [check])
            return selectors.contains { $0.matches(one) }
        }
    }
}
