import CFuzzDriver
import CMongoc
import Foundation
import ProbeCore

@testable import NativeClients

/// BSON from MongoDB: a reply document as libbson reads it, turned into relaxed extended JSON and `JSONValue` as the
/// checks read replies; and the same bytes as extended JSON, as the probe's commands are built.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let document = bson_new_from_data(data, size) {
        let json = BSONDocument.json(document)
        bson_destroy(document)
        if let value = JSONValue.parse(Data(json.utf8)) {
            _ = value["writeConcernErrors"]?.array?.first?["code"]?.int
            _ = value["writeErrors"]?.array?.first?["errmsg"]?.string
            _ = value.at("connections.current")?.double.map { $0.saturatingInt }
            _ = value.at("uptime")?.double.map { Durations.format(seconds: $0) }
            _ = value["deletedCount"]?.int
        }
    }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .success(let document) = BSONDocument.fromJSON(text) { _ = BSONDocument.json(document.pointer) }
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzBSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzBSON(data, size)
    }
}
