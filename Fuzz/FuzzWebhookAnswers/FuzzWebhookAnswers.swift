import CFuzzDriver
import Foundation
import Notifiers
import ProbeCore

/// Answers of webhook receivers and chat platforms: a status, headers and a body, judged by every destination.
/// Input: two bytes of status, then header lines `name: value` up to an empty line, then the body.
let destinations: [any Destination] = {
    var all: [any Destination] = [
        SlackDestination(name: "slack", url: Secret("https://hooks.slack.com/services/T1/B2/XYZ"))
    ]
    if let hook = try? WebhookDestination(name: "hook", url: Secret("https://hooks.example.com/x"), secret: nil) {
        all.append(hook)
    }
    if let config = try? DiscordConfig(url: "https://discord.com/api/webhooks/1/abc") {
        all.append(DiscordDestination(config: config))
    }
    if let config = try? TeamsConfig(url: "https://example.webhook.office.com/webhookb2/x") {
        all.append(TeamsDestination(config: config))
    }
    if let config = try? TelegramConfig(botToken: "123:abc", chatID: "42") {
        all.append(TelegramDestination(config: config))
    }
    if let config = try? MattermostConfig(url: "https://chat.example.com/hooks/x") {
        all.append(MattermostDestination(config: config))
    }
    if let config = try? GoogleChatConfig(url: "https://chat.googleapis.com/v1/spaces/x/messages?key=k&token=t") {
        all.append(GoogleChatDestination(config: config))
    }
    if let config = try? PagerDutyConfig(routingKey: "0123456789abcdef0123456789abcdef") {
        all.append(PagerDutyDestination(config: config))
    }
    if let config = try? AlertmanagerConfig(url: "http://alertmanager:9093") {
        all.append(AlertmanagerDestination(config: config))
    }
    return all
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhookAnswers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let status = 100 + (Int(bytes[0]) << 8 | Int(bytes[1])) % 500
    let text = String(decoding: bytes[2...], as: UTF8.self)
    var headers: [String: String] = [:]
    var body = ""
    let parts = text.components(separatedBy: "\n\n")
    for line in parts[0].split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[String(line[..<colon])] = String(line[line.index(after: colon)...])
    }
    if parts.count > 1 { body = parts.dropFirst().joined(separator: "\n\n") }
    let now = Date(timeIntervalSince1970: 1_780_000_000)
    _ = RetryAfter.seconds(headers, now: now)
    for response in [
        DeliveryResponse(status: status, headers: headers, body: body),
        DeliveryResponse(status: nil, transportError: body),
    ] {
        for destination in destinations {
            _ = destination.classify(response)
            _ = destination.disables(response)
        }
    }
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzWebhookAnswers_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzWebhookAnswers(data, size)
    }
}
