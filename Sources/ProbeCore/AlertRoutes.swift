import Foundation

/// Which destinations an incident goes to: the `routes:` section of `alerts/alerts.yaml`.
///
/// Rules are tried in order. The first rule that matches decides, unless it says `continue: true`, in which case the
/// following rules are tried too and every matching rule adds its destinations (Alertmanager's semantics, so both
/// "first match" and "all matches" can be written). When no rule matches, the default route applies: `default:` when
/// given, else every destination. A RESOLVED goes where its firing went (the pipeline remembers), so routing is
/// decided once per incident, on the firing.
///
/// ```yaml
/// routes:
///   default: [team-chat]
///   rules:
///     - name: data-pages
///       layers: [data]
///       severities: [critical]
///       destinations: [pagerduty]
///       continue: true
/// ```
public struct AlertRoutes: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var name: String
        public var selector: AlertSelector
        public var destinations: [String]
        /// Also try the following rules after this one matched.
        public var continueMatching: Bool

        public init(name: String, selector: AlertSelector, destinations: [String], continueMatching: Bool = false) {
            self.name = name
            self.selector = selector
            self.destinations = destinations
            self.continueMatching = continueMatching
        }
    }

    public var rules: [Rule]
    /// nil: every destination.
    public var defaultDestinations: [String]?

    public init(rules: [Rule] = [], defaultDestinations: [String]? = nil) {
        self.rules = rules
        self.defaultDestinations = defaultDestinations
    }

    /// No rules, default route to every destination: the zero-file setup.
    public static let everything = AlertRoutes()

    /// The destinations for a subject, in rule order, each once. `all` is every configured destination, in order.
    public func destinations(for subject: AlertSubject, all: [String]) -> [String] {
        var chosen: [String] = []
        var matched = false
        for rule in rules where rule.selector.matches(subject) {
            matched = true
            chosen.append(contentsOf: rule.destinations)
            if !rule.continueMatching { break }
        }
        if !matched { chosen = defaultDestinations ?? all }
        var seen: Set<String> = []
        return chosen.filter { seen.insert($0).inserted }
    }

    /// The name of the rule(s) that decided, for `validate` and logs ("default" when none).
    public func explain(_ subject: AlertSubject) -> [String] {
        var names: [String] = []
        for rule in rules where rule.selector.matches(subject) {
            names.append(rule.name)
            if !rule.continueMatching { break }
        }
        return names.isEmpty ? ["default"] : names
    }

    /// Parses the `routes:` mapping. `destinations` are the names that exist (from `destinations:` and the
    /// environment); nil skips that check.
    public static func parse(_ map: ConfigMap, destinations known: Set<String>?) throws -> AlertRoutes {
        func checkNames(_ names: [String], _ owner: ConfigMap, _ key: String) throws {
            guard let known else { return }
            for name in names where !known.contains(name) {
                let list =
                    known.isEmpty ? "none is configured" : "configured: \(known.sorted().joined(separator: ", "))"
                throw owner.error(key: key, "'\(name)' is not a destination (\(list))")
            }
        }
        var routes = AlertRoutes()
        if let names = try map.stringList("default") {
            try checkNames(names, map, "default")
            routes.defaultDestinations = names
        }
        var seenNames: Set<String> = []
        for (index, item) in (try map.maps("rules") ?? []).enumerated() {
            let name = try item.nonEmptyString("name") ?? "rule \(index + 1)"
            if !seenNames.insert(name).inserted { throw item.error(key: "name", "duplicate rule name '\(name)'") }
            let selector = try AlertSelector.parse(item)
            guard let destinations = try item.stringList("destinations"), !destinations.isEmpty else {
                throw item.error(at: nil, "\(item.path): 'destinations' is required (a list of destination names)")
            }
            try checkNames(destinations, item, "destinations")
            let continueMatching = try item.bool("continue", default: false)
            try item.finish()
            routes.rules.append(
                Rule(name: name, selector: selector, destinations: destinations, continueMatching: continueMatching))
        }
        try map.finish()
        return routes
    }
}
