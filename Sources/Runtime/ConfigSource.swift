import Foundation
import ProbeCore
import Probes

/// Finds and loads the check configuration: `--config`, else `CLEARML_PROBE_CONFIG`, else `probes/clearml.yaml` in
/// the current folder, else the copy built into the binary.
public enum ConfigSource {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func resolve(explicit: String?, environment: [String: String]) -> (path: String, yaml: String?) {
        if let explicit, !explicit.isEmpty { return (explicit, nil) }
        if let fromEnv = environment["CLEARML_PROBE_CONFIG"], !fromEnv.isEmpty { return (fromEnv, nil) }
        if FileManager.default.fileExists(atPath: DefaultConfig.path) { return (DefaultConfig.path, nil) }
        return ("<built-in \(DefaultConfig.path)>", DefaultConfig.yaml)
    }

    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> LoadedConfig
    {
        let (path, embedded) = resolve(explicit: explicit, environment: environment)
        let yaml: String
        if let embedded {
            yaml = embedded
        } else {
            do {
                yaml = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw LoadError(description: "\(path): cannot read the config file (\(Self.reason(error)))")
            }
        }
        return try LoadedConfig.load(
            yaml: yaml, file: path, substitution: EnvironmentSubstitution(environment: environment))
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        return nsError.localizedDescription
    }
}
