import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@Suite struct StatusPageTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test func everythingFromResultsIsEscaped() {
        let html = StatusPage.render(Fixtures.snapshot(), health: HealthVerdict(alive: true, reason: "ok"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<b>bad</b>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        #expect(!html.contains("http://") && !html.contains("https://"), "no external asset")
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"15\">"))
    }

    @Test func rootCausesComeFirst() {
        let html = StatusPage.render(Fixtures.snapshot(), health: HealthVerdict(alive: true, reason: "ok"))
        let causes = try! #require(html.range(of: "id=\"root-causes\""))
        let layers = try! #require(html.range(of: "class=\"layer\""))
        #expect(causes.lowerBound < layers.lowerBound)
    }

    @Test(.enabled(if: chromium != nil, "needs chromium (Debian package chromium)"), .timeLimit(.minutes(1)))
    func headlessChromiumRendersThePageOffline() async throws {
        let fixture = try EndpointFixture(
            snapshot: Fixtures.snapshot(alerts: AlertSummary(openIncidents: 1, outboxDepth: 0, deadLetters: 2)))
        let profile = try TempDirectory("chromium")
        defer { profile.remove() }
        // Every request but those to 127.0.0.1 goes to a proxy that does not exist (note: `<-loopback>` would send
        // loopback through it too), so any external asset would fail to load;
        // the page must still render completely.
        let (status, dom, log) = try Self.chromium(url: fixture.base + "/", profile: profile.path)
        #expect(status == 0, "chromium: \(log.suffix(2000))")
        #expect(dom.contains("id=\"overall\""))
        #expect(dom.contains("data-status=\"critical\""))
        #expect(dom.contains("Root causes"))
        #expect(dom.contains("data-key=\"apiserver.ping\""))
        #expect(dom.contains("debug.ping refused"))
        // The hostile text stays text: the browser shows it, it never became markup.
        #expect(dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"))
        #expect(!dom.contains("<script>alert"))
        for layer in ["ingress", "application", "data", "execution"] { #expect(dom.contains("id=\"layer-\(layer)\"")) }
        #expect(dom.contains("<svg class=\"spark\""), "sparklines are inline SVG")
        #expect(dom.contains("<polyline"))
        #expect(dom.contains("1 open incident"))
        #expect(dom.contains("2 dead letters"))
        #expect(dom.contains("Not checked"))
        #expect(
            !log.contains("ERR_PROXY_CONNECTION_FAILED"),
            "the page tried to load something from outside: \(log.suffix(2000))")
    }

    static func chromium(url: String, profile: String) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--user-data-dir=\(profile)",
            "--proxy-server=127.0.0.1:1", "--proxy-bypass-list=127.0.0.1", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=3000", "--dump-dom", url,
        ]
        let output = Pipe()
        let errors = try TempDirectory("chromium-log")
        defer { errors.remove() }
        let logPath = errors.file("stderr.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), log)
    }
}
