import Foundation
import ProbeCore
import Runtime
import Testing

@Suite struct SidecarSettingsTests {
    static func resolve(
        _ env: [String: String], listen: String? = nil, container: Bool = false,
        files: [String: String] = [:]
    ) throws(SidecarSettings.Invalid) -> SidecarSettings {
        try SidecarSettings.resolve(
            listen: listen, stateDirectory: nil, configStateDirectory: nil,
            substitution: EnvironmentSubstitution(
                environment: env,
                readFile: { path in
                    guard let content = files[path] else { throw CocoaError(.fileNoSuchFile) }
                    return content
                }), inContainer: container)
    }

    @Test(
        arguments: [
            // (flag, env, in a container, expected host, port)
            (nil, nil, false, "127.0.0.1", 9469), (nil, nil, true, "0.0.0.0", 9469),
            (nil, "10.0.0.5:9000", false, "10.0.0.5", 9000),
            ("127.0.0.1:1234", "0.0.0.0:9000", true, "127.0.0.1", 1234),
            (":9470", nil, false, "0.0.0.0", 9470), ("[::1]:9469", nil, false, "::1", 9469),
            ("localhost:80", nil, false, "127.0.0.1", 80),
        ] as [(String?, String?, Bool, String, Int)])
    func listenAddress(flag: String?, env: String?, container: Bool, host: String, port: Int) throws {
        let settings = try Self.resolve(
            env.map { ["CLEARML_PROBE_LISTEN": $0] } ?? [:], listen: flag, container: container)
        #expect(settings.listenHost == host)
        #expect(settings.listenPort == port)
    }

    @Test(arguments: ["nonsense", "host:", "host:99999", "1.2.3.4"])
    func badListenAddresses(text: String) {
        #expect(throws: SidecarSettings.Invalid.self) { try Self.resolve([:], listen: text) }
    }

    @Test func authFromTheEnvironmentAndFiles() throws {
        let settings = try Self.resolve(
            [
                "CLEARML_PROBE_HTTP_TOKEN_FILE": "/run/secrets/token", "CLEARML_PROBE_HTTP_USER": "ops",
                "CLEARML_PROBE_HTTP_PASSWORD": "pw",
            ], files: ["/run/secrets/token": "tok-123\n"])
        #expect(settings.auth.token?.exposed == "tok-123")
        #expect(settings.auth.basic?.user == "ops")
        #expect(settings.auth.allows("Bearer tok-123"))
        #expect(!settings.auth.allows("Bearer tok-12"))
        #expect(!settings.auth.allows(nil))
        #expect(!Self.resolveFails(["CLEARML_PROBE_HTTP_USER": "ops"]).isEmpty)
        #expect(
            Self.resolveFails(["CLEARML_PROBE_HTTP_TOKEN_FILE": "/missing"]).contains("CLEARML_PROBE_HTTP_TOKEN_FILE"))
        #expect(!(try Self.resolve([:])).auth.isEnabled)
    }

    @Test func heartbeatAndWatchdogURLs() throws {
        let settings = try Self.resolve([
            "CLEARML_PROBE_HEARTBEAT_URL": "https://hc.example/ping/abc", "CLEARML_PROBE_HEARTBEAT_METHOD": "post",
            "CLEARML_PROBE_WATCHDOG_ALERTMANAGER_URL": "http://alertmanager:9093",
        ])
        #expect(settings.heartbeatMethod == .post)
        #expect(settings.heartbeatURL?.host == "hc.example")
        let message = Self.resolveFails(["CLEARML_PROBE_HEARTBEAT_URL": "ftp://x/secret-token"])
        #expect(message.contains("CLEARML_PROBE_HEARTBEAT_URL"))
        #expect(!message.contains("secret-token"), "a bad URL is reported without its path")
        #expect(!Self.resolveFails(["CLEARML_PROBE_HEARTBEAT_METHOD": "PUT"]).isEmpty)
        #expect(!Self.resolveFails(["CLEARML_PROBE_MAX_CONCURRENCY": "0"]).isEmpty)
    }

    @Test(arguments: [
        ("0.0.0.0:9469", "http://127.0.0.1:9469/healthz"), ("127.0.0.1:80", "http://127.0.0.1:80/healthz"),
        ("[::]:9469", "http://[::1]:9469/healthz"),
    ])
    func healthcheckAsksLoopback(listen: String, url: String) throws {
        #expect(try SidecarSettings.healthURL(listen: listen).absoluteString == url)
    }

    static func resolveFails(_ env: [String: String]) -> String {
        do {
            _ = try resolve(env)
            return ""
        } catch {
            return error.description
        }
    }
}

@Suite struct AlertmanagerWatchdogTests {
    @Test func payloadIsAnAlwaysFiringAlert() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let data = AlertmanagerWatchdog.payload(
            instance: "probe-1", startsAt: start, endsAt: start.addingTimeInterval(120))
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"[{"annotations":{"description":"This alert always fires while the probe works. If it stops, the probe is down or wedged.","summary":"clearml-probe is alive and checking ClearML."},"endsAt":"2027-01-15T08:02:00.000Z","labels":{"alertname":"ClearMLProbeWatchdog","instance":"probe-1","severity":"none","source":"clearml-probe"},"startsAt":"2027-01-15T08:00:00.000Z"}]"#
        )
    }

    @Test(arguments: [
        ("http://am:9093", "http://am:9093/api/v2/alerts"), ("http://am:9093/", "http://am:9093/api/v2/alerts"),
        ("http://am:9093/api/v2/alerts", "http://am:9093/api/v2/alerts"),
        ("https://x/prefix", "https://x/prefix/api/v2/alerts"),
    ])
    func endpoint(base: String, expected: String) {
        #expect(AlertmanagerWatchdog.alertsEndpoint(URL(string: base)!).absoluteString == expected)
    }

    @Test func validityIsAFewCyclesAndAtLeastTwoMinutes() {
        #expect(AlertmanagerWatchdog.validity(intervals: [0.05], timeouts: [1]) == 120)
        #expect(AlertmanagerWatchdog.validity(intervals: [30, 60], timeouts: [3, 5]) == 260)
    }
}
