import ProbeCore
import Probes

/// Loading a config the way `clearml-probe` does, from YAML text with no environment, and picking one check's plan.
extension LoadedConfig {
    static func fromYAML(_ yaml: String, file: String = "t.yaml") throws -> LoadedConfig {
        try LoadedConfig.load(yaml: yaml, file: file, substitution: EnvironmentSubstitution(environment: [:]))
    }

    /// The check the config built for `id`, as its concrete type; nil when it is not configured or of another type.
    func readyCheck<C: Check>(_ id: CheckID, as type: C.Type = C.self) -> C? {
        guard case .ready(let check)? = checks.first(where: { $0.id == id })?.plan else { return nil }
        return check as? C
    }
}
