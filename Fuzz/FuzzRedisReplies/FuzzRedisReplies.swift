import CFuzzDriver
import CHiredis
import Foundation
import ProbeCore

@testable import NativeClients

/// Redis replies: RESP bytes through hiredis' reader (as the connection reads them), copied into `RedisReply`, and
/// the text of each reply read as `INFO` the way the status checks read it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedisReplies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let reader = redisReaderCreate() else { return 0 }
    defer { redisReaderFree(reader) }
    _ = data.withMemoryRebound(to: CChar.self, capacity: size) { redisReaderFeed(reader, $0, size) }
    for _ in 0..<64 {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK, let raw else { break }
        let reply = RedisContext.convert(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        inspect(reply)
    }
    let info = RedisInfo(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self))
    for key in info.fields.keys {
        _ = info.number(key).map { ($0.saturatingInt, Durations.format(seconds: $0), ByteSize.format($0)) }
    }
    return 0
}

func inspect(_ reply: RedisReply) {
    _ = reply.errorMessage
    if let text = reply.text {
        let info = RedisInfo(text)
        for key in info.fields.keys { _ = info.number(key).map { ($0.saturatingInt, Durations.format(seconds: $0)) } }
    }
    if case .array(let items) = reply { for item in items.prefix(64) { inspect(item) } }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's input function.
@_cdecl("FuzzRedisReplies_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzRedisReplies(data, size)
    }
}
