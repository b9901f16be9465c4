import CMongoc
import Foundation
import ProbeCore

/// Owns one heap `bson_t` made from JSON (`bson_new_from_json`) and destroys it once.
final class BSONDocument {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { bson_destroy(pointer) }

    /// Parses canonical or relaxed extended JSON; nil with the parser's message when it is not valid.
    static func fromJSON(_ json: String) -> Result<BSONDocument, MongoFailure> {
        var error = bson_error_t()
        let bytes = Array(json.utf8)
        let made = bytes.withUnsafeBufferPointer { buffer in
            bson_new_from_json(buffer.baseAddress, buffer.count, &error)
        }
        guard let made else {
            return .failure(
                MongoFailure(kind: .other, step: "encode BSON", message: MongoClientHandle.message(of: error)))
        }
        return .success(BSONDocument(pointer: made))
    }

    static func json(_ pointer: OpaquePointer) -> String {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(pointer, &length) else { return "{}" }
        defer { bson_free(text) }
        return String(cString: text)
    }
}

/// A `bson_t` that libmongoc fills (a `reply` out-parameter).
///
/// `bson_t` is declared 128-byte aligned, but Swift sees alignment 4, so it never lives on the
/// Swift stack: 128 bytes at 128-byte alignment are allocated here, initialised empty, destroyed and freed once.
final class BSONReply {
    let raw: UnsafeMutableRawPointer
    var pointer: OpaquePointer { OpaquePointer(raw) }

    init() {
        raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        bson_init(OpaquePointer(raw))
    }

    deinit {
        bson_destroy(OpaquePointer(raw))
        raw.deallocate()
    }

    var json: String { BSONDocument.json(pointer) }

    var value: JSONValue { JSONValue.parse(Data(json.utf8)) ?? .object([:]) }
}
