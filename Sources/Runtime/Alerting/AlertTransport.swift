import Foundation
import NativeClients
import Notifiers
import ProbeCore

/// Sends one outgoing request and reports what came back; the pipeline never sees libcurl.
public protocol AlertTransport: Sendable {
    func send(_ request: OutgoingRequest, timeout: Double) async -> DeliveryResponse
}

/// The real transport: libcurl, no redirects followed, every phase bounded by the destination's timeout.
public struct CurlAlertTransport: AlertTransport {
    public init() {}

    public func send(_ request: OutgoingRequest, timeout: Double) async -> DeliveryResponse {
        guard let url = URL(string: request.url) else {
            return DeliveryResponse(status: nil, transportError: "the destination URL cannot be parsed")
        }
        let http = HTTPRequest(
            method: request.method, url: url,
            headers: request.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            body: request.body, connectTimeout: min(5, timeout), timeout: timeout, maxBodyBytes: 16 * 1024)
        switch await HTTPClient().perform(http) {
        case .success(let response):
            var headers: [String: String] = [:]
            for header in response.headers { headers[header.name] = header.value }
            return DeliveryResponse(status: response.status, headers: headers, body: response.text)
        case .failure(let failure):
            return DeliveryResponse(status: nil, transportError: failure.description)
        }
    }
}
