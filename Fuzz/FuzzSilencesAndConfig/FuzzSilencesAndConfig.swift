import CFuzzDriver
import Foundation
import Notifiers
import ProbeCore
import Runtime

/// Files the probe reads: `silences.json`, a silence request's JSON, and the YAML of `probes.yaml` and `alerts.yaml`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSilencesAndConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let now = Date(timeIntervalSince1970: 1_780_000_000)
    if var silences = try? Silences.decode(bytes) {
        _ = silences.active(at: now)
        silences.prune(now: now)
        _ = try? silences.add(match: "redis", duration: 60, reason: "fuzz", now: now, id: "s-fuzz")
        _ = try? silences.encoded()
    }
    if let object = JSONValue.parse(bytes)?.object {
        var silences = Silences()
        _ = try? silences.add(
            match: object["match"]?.string ?? "", duration: (try? Durations.seconds(object["for"]?.string ?? "")) ?? 0,
            reason: object["reason"]?.string ?? "", createdBy: object["created_by"]?.string, now: now)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    let substitution = EnvironmentSubstitution(environment: ["TOKEN": "t"])
    if let map = try? ConfigMap.parse(yaml: text, file: "probes.yaml", substitution: substitution) {
        _ = try? ProbeConfig.parse(map)
    }
    _ = try? AlertsConfig.load(yaml: text, file: "alerts.yaml", substitution: substitution)
    _ = try? Durations.seconds(text)
    _ = try? Silence.Matcher.parse(text)
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzSilencesAndConfig_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzSilencesAndConfig(data, size)
    }
}
