import Foundation
import Notifiers
import ProbeCore
import Runtime
import TestSupport

/// A transport that answers from a script and records what it was given.
final class ScriptedTransport: AlertTransport, @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var requests: [OutgoingRequest] = []
    private var answers: [DeliveryResponse] = []
    private var answer: @Sendable (OutgoingRequest, Int) -> DeliveryResponse

    init(
        _ answer: @escaping @Sendable (OutgoingRequest, Int) -> DeliveryResponse = { _, _ in
            DeliveryResponse(status: 200, body: "ok")
        }
    ) {
        self.answer = answer
    }

    func script(_ answer: @escaping @Sendable (OutgoingRequest, Int) -> DeliveryResponse) {
        lock.withLock { self.answer = answer }
    }

    var sent: [OutgoingRequest] { lock.withLock { requests } }

    /// The requests that got a 2xx, in order.
    var accepted: [OutgoingRequest] {
        lock.withLock { zip(requests, answers).filter { (200..<300).contains($0.1.status ?? 0) }.map(\.0) }
    }

    func send(_ request: OutgoingRequest, timeout: Double) async -> DeliveryResponse {
        let (answer, index) = lock.withLock { () -> (@Sendable (OutgoingRequest, Int) -> DeliveryResponse, Int) in
            requests.append(request)
            return (self.answer, requests.count - 1)
        }
        let response = answer(request, index)
        lock.withLock { answers.append(response) }
        return response
    }
}

/// A clock the test moves.
final class ManualClock: AlertClock, @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        await Task.yield()
    }
}

enum AlertTesting {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func policy(grace: Double = 0) -> AlertPolicy {
        var policy = AlertPolicy()
        policy.grace = grace
        return policy
    }

    static func webhook(_ url: String = "http://127.0.0.1:9/hook", name: String = "hooks") -> WebhookDestination {
        try! WebhookDestination(name: name, url: Secret(url), secret: Secret(secret))
    }

    /// The decoded body of a request our webhook sent.
    static func event(_ request: OutgoingRequest) -> (event: String, incident: String, id: String) {
        let json = JSONValue.parse(request.body)
        if case .string(let event)? = json?.at("data.event"), case .string(let incident)? = json?.at("data.incident_id")
        {
            return (event, incident, request.headers["webhook-id"] ?? "")
        }
        return ("?", "?", "")
    }
}
