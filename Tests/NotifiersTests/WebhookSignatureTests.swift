import Foundation
import Notifiers
import ProbeCore
import TestSupport
import Testing

@Suite struct WebhookSignatureTests {
    /// 32 random bytes, as Standard Webhooks shows a secret.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func destination() throws -> WebhookDestination {
        try WebhookDestination(
            name: "hooks", url: Secret("https://hooks.example.com/in/T0K3N?key=abc"), secret: Secret(secret))
    }

    @Test func headersAndSignatureVerifyInSwift() throws {
        let message = AlertFixtures.message()
        let now = Date(timeIntervalSince1970: 1_787_393_000)
        let request = try Self.destination().request(for: message, now: now)
        #expect(request.headers["webhook-id"] == message.messageID)
        #expect(request.headers["webhook-timestamp"] == "1787393000")
        let signature = try #require(request.headers["webhook-signature"])
        #expect(signature.hasPrefix("v1,"))
        let verifier = try StandardWebhooks(secret: Secret(Self.secret))
        #expect(
            verifier.verify(
                id: message.messageID, timestamp: 1_787_393_000, body: request.body, signatureHeader: signature))
        #expect(
            !verifier.verify(
                id: message.messageID, timestamp: 1_787_393_001, body: request.body, signatureHeader: signature))
        #expect(
            !verifier.verify(
                id: message.messageID, timestamp: 1_787_393_000, body: request.body + Data(" ".utf8),
                signatureHeader: signature))
    }

    @Test func idIsStableAcrossAttemptsTimestampIsNot() throws {
        let message = AlertFixtures.message()
        let first = try Self.destination().request(for: message, now: Date(timeIntervalSince1970: 1000))
        let retry = try Self.destination().request(for: message, now: Date(timeIntervalSince1970: 1060))
        #expect(first.headers["webhook-id"] == retry.headers["webhook-id"])
        #expect(first.body == retry.body)
        #expect(first.headers["webhook-timestamp"] != retry.headers["webhook-timestamp"])
        #expect(first.headers["webhook-signature"] != retry.headers["webhook-signature"])
    }

    /// The receiver's side in Python's own hmac, exactly as the Standard Webhooks reference verifier computes it.
    @Test func pythonHmacAgrees() throws {
        let message = AlertFixtures.message()
        let request = try Self.destination().request(for: message, now: Date(timeIntervalSince1970: 1_787_393_000))
        let directory = try TempDirectory("sig")
        defer { directory.remove() }
        let bodyPath = directory.file("body.json")
        try request.body.write(to: URL(fileURLWithPath: bodyPath))
        let script = """
            import base64, hashlib, hmac, sys
            secret, msg_id, ts, sig, path = sys.argv[1:6]
            key = base64.b64decode(secret[len("whsec_"):])
            body = open(path, "rb").read()
            expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
            ok = any(hmac.compare_digest(expected, s.split(",", 1)[1]) for s in sig.split(" ") if s.startswith("v1,"))
            print("valid" if ok else "invalid")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", script, Self.secret, request.headers["webhook-id"]!, request.headers["webhook-timestamp"]!,
            request.headers["webhook-signature"]!, bodyPath,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "valid")
    }

    @Test func unsignedWithoutASecret() throws {
        let destination = try WebhookDestination(name: "hooks", url: Secret("http://127.0.0.1:1/x"), secret: nil)
        let request = try destination.request(for: AlertFixtures.message(), now: Date())
        #expect(request.headers["webhook-signature"] == nil)
        #expect(request.headers["webhook-id"] != nil)
    }

    @Test func badSecretIsRefused() {
        #expect(throws: StandardWebhooks.InvalidSecret.self) {
            try StandardWebhooks(secret: Secret("whsec_not base64!"))
        }
    }
}
