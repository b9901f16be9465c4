import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// Each bad config under Fixtures/config has its exact expected error beside it (`.err`); a missing or different
/// `.err` fails, and CLEARML_PROBE_RECORD_GOLDENS=1 records it, to be reviewed like code.
@Suite("Bad config fixtures give located errors")
struct ConfigFixtureTests {
    static let folder = Repository.path("Tests/ProbesTests/Fixtures/config")
    /// The fixture files, or why the folder could not be listed (reported by `folderHasFixtures`).
    static let listing = Result {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
    }
    static let fixtures: [String] = (try? listing.get()) ?? []

    @Test("the fixture folder is there and has fixtures (a wrong folder would run no case)")
    func folderHasFixtures() throws {
        let names = try Self.listing.get()
        #expect(names.count >= 10, "only \(names.count) fixtures in \(Self.folder)")
    }

    @Test(arguments: fixtures)
    func fixture(_ name: String) throws {
        let path = "\(Self.folder)/\(name)"
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        var message = "no error"
        do {
            _ = try LoadedConfig.fromYAML(yaml, file: "probes/\(name)")
        } catch let error as ConfigError {
            message = error.description
        }
        if let difference = Golden.check(
            Data((message + "\n").utf8),
            "Tests/ProbesTests/Fixtures/config/\(name.replacingOccurrences(of: ".yaml", with: ".err"))")
        {
            Issue.record("\(difference)")
        }
        #expect(message.hasPrefix("probes/\(name):"), "the error names the file, line and column")
    }

    @Test("the shipped probes/clearml.yaml is valid with an empty environment and with the compose environment")
    func shippedConfigIsValid() throws {
        let yaml = try String(contentsOfFile: Repository.path("probes/clearml.yaml"), encoding: .utf8)
        let bare = try LoadedConfig.fromYAML(yaml, file: "probes/clearml.yaml")
        #expect(bare.config.services.apiserver?.absoluteString == "http://apiserver:8008")
        #expect(bare.config.ingress.web == nil)
        let compose = try LoadedConfig.load(
            yaml: yaml, file: "probes/clearml.yaml",
            substitution: EnvironmentSubstitution(environment: [
                "CLEARML_WEB_HOST": "https://app.example.com", "CLEARML_API_HOST": "https://api.example.com",
                "CLEARML_FILES_HOST": "https://files.example.com", "CLEARML_PROBE_INGRESS_CONNECT_TO": "nginx:443",
                "CLEARML_API_ACCESS_KEY": "KEY", "CLEARML_API_SECRET_KEY": "SECRET", "CLEARML_PROBE_INTERVAL": "15s",
            ]))
        #expect(compose.config.ingress.connectTo == "nginx:443")
        #expect(compose.config.credentials != nil)
        #expect(compose.config.defaults.interval == 15)
    }

    @Test("the binary's built-in config is probes/clearml.yaml (run scripts/embed-default-config after editing it)")
    func embeddedConfigMatches() throws {
        let yaml = try String(contentsOfFile: Repository.path("probes/clearml.yaml"), encoding: .utf8)
        #expect(
            DefaultConfig.yaml.trimmingCharacters(in: .whitespacesAndNewlines)
                == yaml.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
