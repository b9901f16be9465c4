import CHiredis
import CMongoc
import Foundation
import Notifiers
import ProbeCore
import Probes
import Runtime
import Testing

@testable import NativeClients

/// Every committed fuzz input (`Fuzz/corpus/<target>`, crashers included once found) through the parsers its target
/// feeds, in the normal test run: an input that once crashed a parser stays a regression test here.
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func inputs(_ target: String) -> [(String, Data)] {
        let folder = root.appendingPathComponent("Fuzz/corpus/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: folder.appendingPathComponent(name))).map { (name, $0) }
        }
    }

    @Test func everyTargetHasACorpus() {
        for target in [
            "FuzzJSONReplies", "FuzzBSON", "FuzzRedisReplies", "FuzzWebhookAnswers", "FuzzHTTPRequest",
            "FuzzSilencesAndConfig",
        ] {
            #expect(!Self.inputs(target).isEmpty, "\(target) has no corpus")
        }
    }

    @Test func jsonReplies() {
        for (name, data) in Self.inputs("FuzzJSONReplies") {
            let envelope = ClearMLEnvelope(body: data)
            if name.hasPrefix("code-") { #expect(envelope == nil, "\(name): a result code that is no whole number") }
            guard let value = JSONValue.parse(data) else { continue }
            Self.walk(value, depth: 0)
        }
    }

    static func walk(_ value: JSONValue, depth: Int) {
        _ = (value.int, value.bool, value.string, ClearMLTime.parse(value))
        if let number = value.double {
            _ = (Durations.format(seconds: number), ByteSize.format(number), number.saturatingInt)
        }
        guard depth < 64 else { return }
        for item in value.array ?? [] { walk(item, depth: depth + 1) }
        for item in (value.object ?? [:]).values { walk(item, depth: depth + 1) }
    }

    @Test func bsonReplies() {
        for (name, data) in Self.inputs("FuzzBSON") {
            let bytes = [UInt8](data)
            if let document = bytes.withUnsafeBufferPointer({ bson_new_from_data($0.baseAddress, $0.count) }) {
                let json = BSONDocument.json(document)
                bson_destroy(document)
                let value = JSONValue.parse(Data(json.utf8))
                #expect(value != nil, "\(name): libbson's JSON does not parse: \(json.prefix(200))")
                _ = value?["writeConcernErrors"]?.array?.first?["code"]?.int
                _ = value?.at("connections.current")?.double.map { $0.saturatingInt }
            }
            if case .success(let document) = BSONDocument.fromJSON(String(decoding: data, as: UTF8.self)) {
                _ = BSONDocument.json(document.pointer)
            }
        }
    }

    @Test func redisReplies() {
        for (_, data) in Self.inputs("FuzzRedisReplies") {
            guard let reader = redisReaderCreate() else { continue }
            defer { redisReaderFree(reader) }
            let bytes = [UInt8](data)
            _ = bytes.withUnsafeBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
            }
            for _ in 0..<64 {
                var raw: UnsafeMutableRawPointer?
                guard redisReaderGetReply(reader, &raw) == REDIS_OK, let raw else { break }
                let reply = RedisContext.convert(raw.assumingMemoryBound(to: redisReply.self))
                freeReplyObject(raw)
                if let text = reply.text {
                    let info = RedisInfo(text)
                    for key in info.fields.keys {
                        _ = info.number(key).map { ($0.saturatingInt, Durations.format(seconds: $0)) }
                    }
                }
            }
        }
    }

    @Test func webhookAnswers() throws {
        let destinations: [any Destination] = [
            SlackDestination(name: "slack", url: Secret("https://hooks.slack.com/services/T1/B2/XYZ")),
            try WebhookDestination(name: "hook", url: Secret("https://hooks.example.com/x"), secret: nil),
            DiscordDestination(config: try DiscordConfig(url: "https://discord.com/api/webhooks/1/abc")),
            TelegramDestination(config: try TelegramConfig(botToken: "123:abc", chatID: "42")),
        ]
        for (_, data) in Self.inputs("FuzzWebhookAnswers") {
            let bytes = [UInt8](data)
            guard bytes.count >= 2 else { continue }
            let status = 100 + (Int(bytes[0]) << 8 | Int(bytes[1])) % 500
            let parts = String(decoding: bytes[2...], as: UTF8.self).components(separatedBy: "\n\n")
            var headers: [String: String] = [:]
            for line in parts[0].split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
            let response = DeliveryResponse(
                status: status, headers: headers, body: parts.dropFirst().joined(separator: "\n\n"))
            if let after = RetryAfter.seconds(headers, now: Date()) { #expect(after >= 0 && after <= 86400) }
            for destination in destinations { _ = (destination.classify(response), destination.disables(response)) }
        }
    }

    @Test func httpRequests() {
        for (name, data) in Self.inputs("FuzzHTTPRequest") {
            do {
                let framed = try HTTPRequestHead.frame([UInt8](data), limit: 512)
                #expect(framed.headLength <= data.count)
                _ = SilenceGuard().refusal(framed.head, auth: .none)
            } catch {
                if case .refused(let status, _) = error { #expect((400..<600).contains(status), "\(name)") }
            }
        }
    }

    @Test func silencesAndConfig() {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        for (_, data) in Self.inputs("FuzzSilencesAndConfig") {
            if var silences = try? Silences.decode(data) {
                silences.prune(now: now)
                _ = try? silences.encoded()
            }
            let text = String(decoding: data, as: UTF8.self)
            let substitution = EnvironmentSubstitution(environment: ["TOKEN": "t"])
            if let map = try? ConfigMap.parse(yaml: text, file: "probes.yaml", substitution: substitution) {
                _ = try? ProbeConfig.parse(map)
            }
            _ = try? AlertsConfig.load(yaml: text, file: "alerts.yaml", substitution: substitution)
        }
    }
}
