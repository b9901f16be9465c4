import CFuzzDriver
import Foundation
import ProbeCore
import Runtime

/// The sidecar's own HTTP requests: the head parser must give the same answer however the bytes arrive, and a
/// parsed head must pass the silence guard's checks without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = outcome(bytes)
    // Byte by byte as a slow client sends it: until the head is complete, every prefix is `.incomplete` or the
    // same refusal; the first complete answer equals the one for all the bytes.
    if size < 600 {
        var prefix: [UInt8] = []
        for byte in bytes {
            prefix.append(byte)
            let partial = outcome(prefix)
            if partial != "incomplete" {
                var framedWithin = false
                if case .success(let framed) = result(prefix) {
                    framedWithin = framed.headLength > 0 && framed.headLength <= prefix.count
                }
                if !framedWithin, !partial.hasPrefix("refused") { fatalError("a prefix gave \(partial)") }
                break
            }
        }
        _ = whole
    }
    if case .success(let framed) = result(bytes) {
        precondition(framed.headLength <= bytes.count)
        var head = framed.head
        head.fromLoopback = size % 2 == 0
        head.body = Data(bytes[framed.headLength...].prefix(framed.bodyLength))
        _ = SilenceGuard(listenHost: "0.0.0.0", extraHosts: ["probe.internal"], machineHostName: "box").refusal(
            head, auth: .none)
        _ = SilenceGuard().refusal(head, auth: HTTPAuth(token: Secret("t")))
        _ = HTTPAuth(token: Secret("t"), basic: ("u", Secret("p"))).allows(head.header("authorization"))
    }
    return 0
}

func result(_ bytes: [UInt8]) -> Result<HTTPRequestHead.Framed, HTTPRequestHead.ParseError> {
    do { return .success(try HTTPRequestHead.frame(bytes, limit: 512)) } catch { return .failure(error) }
}

func outcome(_ bytes: [UInt8]) -> String {
    switch result(bytes) {
    case .success: "head"
    case .failure(.incomplete): "incomplete"
    case .failure(.refused(let status, _)): "refused \(status)"
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzHTTPRequest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzHTTPRequest(data, size)
    }
}
