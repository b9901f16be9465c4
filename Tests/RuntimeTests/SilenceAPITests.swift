import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@Suite("Silence store, API and client")
struct SilenceAPITests {
    static let now = Date(timeIntervalSince1970: 1_787_392_800)

    @Test func theAPIAddsListsAndRemoves() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let api = SilenceAPI(store: SilenceStore(directory: directory.path), clock: { Self.now })
        #expect(api.handle(method: "GET", path: "/status") == nil, "other paths are not ours")
        let empty = try #require(api.handle(method: "GET", path: "/api/silences"))
        #expect(empty.status == 200)
        #expect(try SilenceAPI.decodeList(empty.body).isEmpty)

        let added = try #require(
            api.handle(
                method: "POST", path: "/api/silences",
                body: Data(#"{"match":"redis.write","for":"2h","reason":"disk swap","created_by":"ops"}"#.utf8)))
        #expect(added.status == 201)
        let silence = try SilenceAPI.decodeOne(added.body)
        #expect(silence.match == .init(kind: .check, value: "redis.write"))
        #expect(silence.expiresAt == Self.now.addingTimeInterval(7200))
        #expect(silence.active)
        #expect(String(decoding: added.body, as: UTF8.self).contains("\"expires_at\" : \"2026-08-22T12:00:00Z\""))

        let listed = try SilenceAPI.decodeList(try #require(api.handle(method: "GET", path: "/api/silences")).body)
        #expect(listed.map(\.id) == [silence.id])
        #expect(try SilenceStore(directory: directory.path).load().silences.count == 1, "written to silences.json")

        let bad = try #require(
            api.handle(
                method: "POST", path: "/api/silences",
                body: Data(#"{"match":"redis","for":"2 hours","reason":"x"}"#.utf8)))
        #expect(bad.status == 400)
        #expect(SilenceAPI.decodeError(bad.body)?.hasPrefix("for:") == true)
        let noReason = try #require(
            api.handle(
                method: "POST", path: "/api/silences", body: Data(#"{"match":"redis","for":"2h","reason":""}"#.utf8)))
        #expect(noReason.status == 400)
        #expect(try #require(api.handle(method: "PUT", path: "/api/silences")).status == 405)

        let removed = try #require(api.handle(method: "DELETE", path: "/api/silences/\(silence.id)"))
        #expect(removed.status == 200)
        #expect(try #require(api.handle(method: "DELETE", path: "/api/silences/\(silence.id)")).status == 404)
    }

    @Test func concurrentWritersNeverLoseASilence() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let store = SilenceStore(directory: directory.path)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    _ = try? store.update { silences in
                        try silences.add(
                            match: "redis", duration: 60, reason: "writer \(index)", now: Self.now, id: "s-\(index)")
                    }
                }
            }
        }
        #expect(try store.load().silences.count == 20)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains(".tmp-")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func theClientUsesTheStateDirectoryWhenNoSidecarAnswers() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let environment = [
            "CLEARML_PROBE_LISTEN": "127.0.0.1:\(Ports.closed())", "CLEARML_PROBE_STATE_DIR": directory.path,
        ]
        let target = try await SilenceClient.resolve(url: nil, stateDirectory: nil, environment: environment)
        guard case .file(let store) = target else {
            Issue.record("expected the state directory")
            return
        }
        #expect(store.path == directory.file("silences.json"))
        let added = try await SilenceClient.add(
            target, match: "data", duration: "30m", reason: "restore", createdBy: "ops", now: Self.now)
        #expect(SilenceClient.describe(added, now: Self.now).contains("layer data  until 2026-08-22 10:30 UTC"))
        #expect(try await SilenceClient.list(target, now: Self.now).count == 1)
        _ = try await SilenceClient.remove(target, id: String(added.id.prefix(4)), now: Self.now)
        #expect(try await SilenceClient.list(target, now: Self.now).isEmpty)
        await #expect(throws: SilenceClient.ClientError.self) {
            _ = try await SilenceClient.resolve(url: nil, stateDirectory: nil, environment: [:])
        }
        #expect(SilenceClient.baseURL(listen: "0.0.0.0:9100") == "http://127.0.0.1:9100")
        #expect(SilenceClient.baseURL(listen: ":9100") == "http://127.0.0.1:9100")
    }
}
