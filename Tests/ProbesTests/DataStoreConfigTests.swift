import Foundation
import ProbeCore
import Probes
import Runtime
import TestSupport
import Testing

/// The shared `mongo`, `redis`, `elasticsearch` sections of the shipped config: the apiserver's environment
/// variables, with compose's service names as defaults.
struct DataStoreConfigTests {
    static func load(_ environment: [String: String], files: [String: String] = [:]) throws -> LoadedConfig {
        let yaml = try String(contentsOfFile: Repository.path("probes/clearml.yaml"), encoding: .utf8)
        let substitution = EnvironmentSubstitution(environment: environment) { path in
            guard let content = files[path] else { throw TestSupportError("no file \(path)") }
            return content
        }
        return try LoadedConfig.load(yaml: yaml, file: "probes/clearml.yaml", substitution: substitution)
    }

    @Test func defaultsAreTheComposeServiceNames() throws {
        let stores = try Self.load([:]).config.dataStores
        #expect(stores.mongo?.uri.exposed == "mongodb://mongo:27017/")
        #expect(stores.redis?.display == "redis:6379")
        #expect(stores.redis?.password == nil)
        #expect(stores.elasticsearch?.url.absoluteString == "http://elasticsearch:9200")
        #expect(stores.elasticsearch?.username == nil)
    }

    @Test func theApiserversVariablesAreRead() throws {
        let loaded = try Self.load(
            [
                "CLEARML_MONGODB_SERVICE_HOST": "db", "CLEARML_MONGODB_SERVICE_PORT": "27018",
                "CLEARML_REDIS_SERVICE_HOST": "cache", "CLEARML_REDIS_SERVICE_PORT": "6380",
                "CLEARML_REDIS_SERVICE_PASSWORD_FILE": "/run/secrets/redis",
                "CLEARML_ELASTIC_SERVICE_HOST": "search", "CLEARML_ELASTIC_SERVICE_PORT": "9201",
                "CLEARML_ELASTIC_SERVICE_USERNAME": "elastic", "CLEARML_ELASTIC_SERVICE_PASSWORD": "es-secret-1",
            ], files: ["/run/secrets/redis": "redis-secret-1\n"])
        let stores = loaded.config.dataStores
        #expect(stores.mongo?.uri.exposed == "mongodb://db:27018/")
        #expect(stores.redis?.display == "cache:6380")
        #expect(stores.redis?.password?.exposed == "redis-secret-1")
        #expect(stores.elasticsearch?.url.absoluteString == "http://search:9201")
        #expect(stores.elasticsearch?.password?.exposed == "es-secret-1")
        let secrets = loaded.config.secrets.map(\.exposed)
        #expect(
            secrets.contains("redis-secret-1") && secrets.contains("es-secret-1"),
            "every data-store secret is redacted from output")
    }

    @Test func aConnectionStringWinsAndItsPasswordIsASecret() throws {
        let loaded = try Self.load([
            "CLEARML_MONGODB_SERVICE_CONNECTION_STRING":
                "mongodb://clearml:m0ngo-pw@db1:27017,db2:27017/?replicaSet=rs0",
            "CLEARML_MONGODB_SERVICE_HOST": "ignored",
        ])
        let mongo = try #require(loaded.config.dataStores.mongo)
        #expect(mongo.display == "db1:27017,db2:27017")
        #expect(loaded.config.secrets.map(\.exposed).contains("m0ngo-pw"))
        #expect(
            Redact.text("failed: mongodb://clearml:m0ngo-pw@db1:27017", secrets: loaded.config.secrets).contains(
                "m0ngo-pw") == false)
    }

    @Test func emptyHostsMeanNotConfigured() throws {
        let yaml = "mongo:\n  uri: ''\nredis:\n  host: ''\nelasticsearch:\n  host: ''\n"
        let loaded = try LoadedConfig.fromYAML(yaml)
        for id in [
            CheckID.mongoPing, .mongoWrite, .mongoStatus, .redisLatency, .redisWrite, .redisStatus,
            .elasticsearchHealth,
        ] {
            let plan = try #require(loaded.checks.first { $0.id == id }?.plan)
            guard case .notConfigured(let reason) = plan else {
                Issue.record("\(id) should not be configured")
                continue
            }
            #expect(reason.contains("set CLEARML_"), "\(id): \(reason)")
        }
    }
}
