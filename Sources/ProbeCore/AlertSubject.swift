import Foundation

/// What routing, silences and maintenance windows look at: one incident's root-cause service, its severity and the
/// keys of its failing checks (`redis.write`, `ingress.routes/api`).
public struct AlertSubject: Sendable, Equatable {
    public var service: Service
    public var severity: Status
    /// Check keys (`<id>` or `<id>/<target>`) of the root cause's failing checks.
    public var checks: [String]

    public var layer: Layer { service.layer }

    public init(service: Service, severity: Status, checks: [String] = []) {
        self.service = service
        self.severity = severity
        self.checks = checks
    }

    public init(message: AlertMessage) {
        self.init(service: message.service, severity: message.severity, checks: message.causes.map(\.key))
    }
}

/// A set of criteria on an `AlertSubject`: every criterion given must hold (AND); each list matches any of its
/// values (OR); an absent criterion matches everything.
public struct AlertSelector: Sendable, Equatable, Codable {
    public var layers: [Layer]?
    public var services: [Service]?
    public var severities: [Status]?
    /// Check patterns: an id (`redis.write`, matching every target), a key (`ingress.routes/api`), or a prefix ending
    /// in `*` (`redis.*`).
    public var checks: [String]?

    public init(
        layers: [Layer]? = nil, services: [Service]? = nil, severities: [Status]? = nil, checks: [String]? = nil
    ) {
        self.layers = layers
        self.services = services
        self.severities = severities
        self.checks = checks
    }

    /// Matches everything.
    public static let any = AlertSelector()

    public var isEmpty: Bool { layers == nil && services == nil && severities == nil && checks == nil }

    public func matches(_ subject: AlertSubject) -> Bool {
        if let layers, !layers.contains(subject.layer) { return false }
        if let services, !services.contains(subject.service) { return false }
        if let severities, !severities.contains(subject.severity) { return false }
        if let checks, !subject.checks.contains(where: { key in checks.contains { Self.pattern($0, matches: key) } }) {
            return false
        }
        return true
    }

    /// `redis.write` matches `redis.write` and `redis.write/<target>`; `redis.*` matches every key that starts with
    /// `redis.`; `ingress.routes/api` matches that key only.
    public static func pattern(_ pattern: String, matches key: String) -> Bool {
        if pattern.hasSuffix("*") { return key.hasPrefix(pattern.dropLast()) }
        if pattern == key { return true }
        return !pattern.contains("/") && key.hasPrefix(pattern + "/")
    }

    /// Why a check pattern is not valid, or nil: the id part must name a check of the catalog (a prefix must match at
    /// least one).
    public static func problem(withCheckPattern pattern: String) -> String? {
        let ids = CheckID.allCases.map(\.rawValue)
        if pattern.hasSuffix("*") {
            let prefix = String(pattern.dropLast())
            return ids.contains(where: { $0.hasPrefix(prefix) }) || prefix.contains("/")
                ? nil
                : "'\(pattern)' matches no check (checks: \(ids.joined(separator: ", ")))"
        }
        let id = pattern.split(separator: "/", maxSplits: 1).first.map(String.init) ?? pattern
        return ids.contains(id) ? nil : "'\(id)' is not a check (checks: \(ids.joined(separator: ", ")))"
    }

    /// Reads `layers`, `services`, `severities` and `checks` from a config mapping (each a list or a comma-separated value).
    public static func parse(_ map: ConfigMap) throws -> AlertSelector {
        var selector = AlertSelector()
        selector.layers = try words(map, "layers", Layer.self)
        selector.services = try words(map, "services", Service.self)
        selector.severities = try words(map, "severities", Status.self)
        if let checks = try map.stringList("checks") {
            for check in checks {
                if let problem = problem(withCheckPattern: check) { throw map.error(key: "checks", problem) }
            }
            selector.checks = checks.isEmpty ? nil : checks
        }
        if let severities = selector.severities, severities.contains(.ok) {
            throw map.error(key: "severities", "'ok' never pages (use critical, warning, unknown)")
        }
        return selector
    }

    static func words<T: RawRepresentable & CaseIterable>(_ map: ConfigMap, _ key: String, _ type: T.Type) throws
        -> [T]? where T.RawValue == String
    {
        guard let list = try map.stringList(key) else { return nil }
        let values = try list.map { word -> T in
            guard let value = T(rawValue: word) else {
                throw map.error(
                    key: key, "'\(word)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        return values.isEmpty ? nil : values
    }

    /// A short text for people (`services=redis checks=redis.write`), "everything" when empty.
    public var summary: String {
        var parts: [String] = []
        if let layers { parts.append("layers=" + layers.map(\.rawValue).joined(separator: ",")) }
        if let services { parts.append("services=" + services.map(\.rawValue).joined(separator: ",")) }
        if let severities { parts.append("severities=" + severities.map(\.rawValue).joined(separator: ",")) }
        if let checks { parts.append("checks=" + checks.joined(separator: ",")) }
        return parts.isEmpty ? "everything" : parts.joined(separator: " ")
    }
}
