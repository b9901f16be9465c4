import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport
import Testing

/// A real `clearml-probe` process killed (SIGKILL) in the middle of a delivery: the message arrives after the restart,
/// at most twice, and both times with the same identity.
@Suite(.serialized) struct AlertProcessKillTests {
    static let receiver = try! PythonDouble("webhook_receiver.py")
    static let binary = Repository.path(".build/debug/clearml-probe")

    static func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--pdeathsig", "KILL", binary] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("CLEARML_PROBE_") { environment[key] = nil }
        process.environment = environment
        try process.run()
        return process
    }

    static func waitRequests(_ count: Int, timeout: Double = 15) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let requests = try await receiver.requests()
            if requests.count >= count { return requests }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return try await receiver.requests()
    }

    @Test(.enabled(if: Prerequisite.runs(binary), "needs the built clearml-probe (swift build); always runs in CI"))
    func killedMidDeliveryTheMessageArrivesAtMostTwiceWithTheSameIdentity() async throws {
        let directory = try TempDirectory("alert-kill")
        defer { directory.remove() }
        let url = "http://127.0.0.1:\(Self.receiver.port("webhook"))/kill/T0K3N"
        let alerts = try directory.write(
            "alerts.yaml",
            """
            alerting:
              grace: 0s
            destinations:
              - kind: webhook
                name: hooks
                url: \(url)
                secret: \(AlertTesting.secret)
                timeout: 30s
            """)
        let state = directory.file("state")
        // The sidecar queued a firing and died before delivering it.
        do {
            let config = try AlertsConfigSource.load(explicit: alerts, environment: [:])
            let now = Date()
            let pipeline = try AlertPipeline(
                config: config, instance: "clearml-probe", stateDirectory: state,
                startedAt: now.addingTimeInterval(-120), log: { _ in })
            let down = AlertFixtures.report(failing: [.redis: .critical])
            await pipeline.ingest(down, at: now.addingTimeInterval(-60))
            await pipeline.ingest(down, at: now.addingTimeInterval(-30))
            #expect(await pipeline.status().outbox.count == 1)
        }
        try await Self.receiver.control("/reset", [:])
        try await Self.receiver.control("/script", ["path": "/kill/", "responses": [["hang": true]]])

        let first = try Self.launch(["alerts", "flush", "--state-dir", state, "--alerts", alerts])
        let during = try await Self.waitRequests(1)
        #expect(during.count == 1, "the first process reached the receiver")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        let second = try Self.launch(["alerts", "flush", "--state-dir", state, "--alerts", alerts])
        let deadline = Date().addingTimeInterval(20)
        while second.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        if second.isRunning { second.terminate() }
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)

        let requests = try await Self.receiver.requests()
        let verifier = try StandardWebhooks(secret: Secret(AlertTesting.secret))
        var ids: [String] = []
        for request in requests {
            let headers = Dictionary(
                ((request["headers"] as? [[String]]) ?? []).map { ($0[0].lowercased(), $0[1]) },
                uniquingKeysWith: { a, _ in a })
            let body = Data(base64Encoded: request["body_base64"] as? String ?? "") ?? Data()
            ids.append(headers["webhook-id"] ?? "")
            #expect(
                verifier.verify(
                    id: headers["webhook-id"] ?? "", timestamp: Int(headers["webhook-timestamp"] ?? "") ?? 0,
                    body: body,
                    signatureHeader: headers["webhook-signature"] ?? ""))
        }
        #expect(requests.count == 2, "at most twice")
        #expect(Set(ids).count == 1, "with the same webhook-id")
        let left = try AlertStore(directory: state).load()
        #expect(left.outbox.entries.isEmpty)
        #expect(left.outbox.deliveredCount == 1)
    }
}
