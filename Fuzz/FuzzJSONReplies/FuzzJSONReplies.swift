import CFuzzDriver
import Foundation
import ProbeCore
import Probes

/// ClearML envelopes and data, Elasticsearch JSON: every reply goes through `JSONValue`, then checks read numbers,
/// times and text out of it and format them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONReplies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    _ = ClearMLEnvelope(body: body)
    // The streaming path the fleet checks use: pick some fields, skip the rest.
    _ = ClearMLEnvelope.scan(body) { scanner in try pick(&scanner, depth: 0) }
    guard let value = JSONValue.parse(body) else { return 0 }
    walk(value, depth: 0)
    return 0
}

func pick(_ scanner: inout JSONScanner, depth: Int) throws {
    try scanner.members { key, scanner in
        if key == "name" || key == "added" {
            _ = try scanner.string()
        } else if key == "num_tasks" {
            _ = try scanner.number()
        } else if key == "meta" {
            _ = try scanner.value()
        } else if depth < 8 {
            try scanner.elements { scanner in try pick(&scanner, depth: depth + 1) }
        }
    }
}

func walk(_ value: JSONValue, depth: Int) {
    _ = value.int
    _ = value.bool
    _ = value.string
    _ = ClearMLTime.parse(value)
    if let number = value.double {
        _ = Durations.format(seconds: number)
        _ = Durations.format(seconds: number / 1000)
        _ = ByteSize.format(number)
        _ = number.saturatingInt
    }
    if let text = value.string { _ = ClearMLTime.parse(text) }
    guard depth < 64 else { return }
    for item in value.array ?? [] { walk(item, depth: depth + 1) }
    for (key, item) in value.object ?? [:] {
        _ = value.at(key)
        walk(item, depth: depth + 1)
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzJSONReplies_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzJSONReplies(data, size)
    }
}
