import Foundation

/// A pull scanner over the UTF-8 bytes of one JSON text: a caller walks the values it needs and every other value is
/// skipped (checked, not built). A fleet-size apiserver reply (several MB) is read this way without a tree of it in
/// memory; `value()` still builds a `JSONValue` for the small parts a caller wants whole (the envelope's `meta`).
///
/// Strict JSON (RFC 8259): anything else, nesting deeper than `maxDepth`, or bytes after the value make `scan` give
/// nil. Invalid UTF-8 inside a string is read as U+FFFD rather than refused.
public struct JSONScanner {
    public enum Failure: Error, Equatable {
        case malformed(at: Int)
        case tooDeep
    }

    /// A member's key as it appears in the bytes (without quotes); compared without building a `String` when it has
    /// no escapes.
    public struct Key {
        let bytes: UnsafeBufferPointer<UInt8>
        let escaped: Bool

        public static func == (key: Key, text: String) -> Bool {
            if key.escaped { return JSONScanner.decode(key.bytes) == text }
            var text = text
            return text.withUTF8 { $0.elementsEqual(key.bytes) }
        }

        public var string: String {
            escaped ? (JSONScanner.decode(bytes) ?? "") : String(decoding: bytes, as: UTF8.self)
        }
    }

    public static let maxDepth = 256

    let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread byte.
    public private(set) var position = 0
    var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Runs `body` on the top-level value of `data`; nil when the text is not JSON (also in parts `body` skipped) or
    /// when `body` throws. A value `body` leaves unread is skipped (and so still checked).
    public static func scan<T>(_ data: Data, _ body: (inout JSONScanner) throws -> T) -> T? {
        data.withUnsafeBytes { raw -> T? in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            do {
                scanner.skipSpace()
                let start = scanner.position
                let result = try body(&scanner)
                if scanner.position == start { try scanner.skip() }
                scanner.skipSpace()
                return scanner.position == scanner.bytes.count ? result : nil
            } catch {
                return nil
            }
        }
    }

    // MARK: Reading values

    /// The whole value as a tree (for small parts only).
    public mutating func value() throws -> JSONValue {
        skipSpace()
        switch try peekByte() {
        case UInt8(ascii: "{"):
            var object: [String: JSONValue] = [:]
            _ = try members { key, scanner in object[key.string] = try scanner.value() }
            return .object(object)
        case UInt8(ascii: "["):
            var array: [JSONValue] = []
            _ = try elements { scanner in array.append(try scanner.value()) }
            return .array(array)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return .number(try readNumber())
        }
    }

    /// Calls `body` for every member of an object; a member value `body` leaves unread is skipped. False (with the
    /// value skipped) when the value is not an object.
    @discardableResult
    public mutating func members(_ body: (Key, inout JSONScanner) throws -> Void) throws -> Bool {
        skipSpace()
        guard try peekByte() == UInt8(ascii: "{") else {
            try skip()
            return false
        }
        try enter()
        position += 1
        skipSpace()
        if try peekByte() == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return true
        }
        while true {
            skipSpace()
            guard try peekByte() == UInt8(ascii: "\"") else { throw Failure.malformed(at: position) }
            let key = try readKey()
            skipSpace()
            guard try peekByte() == UInt8(ascii: ":") else { throw Failure.malformed(at: position) }
            position += 1
            skipSpace()
            let start = position
            try body(key, &self)
            if position == start { try skip() }
            skipSpace()
            let byte = try peekByte()
            position += 1
            if byte == UInt8(ascii: "}") {
                depth -= 1
                return true
            }
            guard byte == UInt8(ascii: ",") else { throw Failure.malformed(at: position - 1) }
        }
    }

    /// Calls `body` for every element of an array; an element `body` leaves unread is skipped. False (with the value
    /// skipped) when the value is not an array.
    @discardableResult
    public mutating func elements(_ body: (inout JSONScanner) throws -> Void) throws -> Bool {
        skipSpace()
        guard try peekByte() == UInt8(ascii: "[") else {
            try skip()
            return false
        }
        try enter()
        position += 1
        skipSpace()
        if try peekByte() == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return true
        }
        while true {
            skipSpace()
            let start = position
            try body(&self)
            if position == start { try skip() }
            skipSpace()
            let byte = try peekByte()
            position += 1
            if byte == UInt8(ascii: "]") {
                depth -= 1
                return true
            }
            guard byte == UInt8(ascii: ",") else { throw Failure.malformed(at: position - 1) }
        }
    }

    /// The value when it is a string, else nil (the value skipped).
    public mutating func string() throws -> String? {
        skipSpace()
        guard try peekByte() == UInt8(ascii: "\"") else {
            try skip()
            return nil
        }
        return try readString()
    }

    /// The value when it is a number, else nil (the value skipped).
    public mutating func number() throws -> Double? {
        skipSpace()
        let byte = try peekByte()
        guard byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
            try skip()
            return nil
        }
        return try readNumber()
    }

    /// Passes over one value, checking it.
    public mutating func skip() throws {
        skipSpace()
        switch try peekByte() {
        case UInt8(ascii: "{"): _ = try members { _, _ in }
        case UInt8(ascii: "["): _ = try elements { _ in }
        case UInt8(ascii: "\""): _ = try stringEnd()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberEnd()
        }
    }

    // MARK: Bytes

    mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw Failure.tooDeep }
    }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func peekByte() throws -> UInt8 {
        guard position < bytes.count else { throw Failure.malformed(at: position) }
        return bytes[position]
    }

    mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Failure.malformed(at: position) }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for index in 0..<count where bytes[position + index] != expected[index] {
            throw Failure.malformed(at: position + index)
        }
        position += count
    }

    /// From an opening quote: the offset of the closing quote and whether the string has escapes; `position` moves
    /// past the closing quote.
    mutating func stringEnd() throws -> (start: Int, end: Int, escaped: Bool) {
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return (start, position - 1, escaped)
            }
            if byte < 0x20 { throw Failure.malformed(at: position) }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard position + 1 < bytes.count else { throw Failure.malformed(at: position) }
                switch bytes[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard position + 6 <= bytes.count,
                        (2..<6).allSatisfy({ Self.hexValue(bytes[position + $0]) != nil })
                    else { throw Failure.malformed(at: position) }
                    position += 6
                default:
                    throw Failure.malformed(at: position)
                }
                continue
            }
            position += 1
        }
        throw Failure.malformed(at: position)
    }

    mutating func readKey() throws -> Key {
        let (start, end, escaped) = try stringEnd()
        return Key(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]), escaped: escaped)
    }

    mutating func readString() throws -> String {
        let (start, end, escaped) = try stringEnd()
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if !escaped { return String(decoding: slice, as: UTF8.self) }
        guard let text = Self.decode(slice) else { throw Failure.malformed(at: start) }
        return text
    }

    mutating func numberEnd() throws -> (start: Int, end: Int) {
        let start = position
        func digits() -> Int {
            let from = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                position += 1
            }
            return position - from
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let first = position < bytes.count ? bytes[position] : 0
        let whole = digits()
        guard whole > 0, first != UInt8(ascii: "0") || whole == 1 else { throw Failure.malformed(at: start) }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw Failure.malformed(at: position) }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw Failure.malformed(at: position) }
        }
        return (start, position)
    }

    mutating func readNumber() throws -> Double {
        let (start, end) = try numberEnd()
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        // Grammar-checked above, so only range is left: 1e400 reads as infinity, which JSONValue's accessors refuse.
        return Double(text) ?? .nan
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The text of string bytes (between the quotes) with escapes resolved; a lone surrogate becomes U+FFFD. nil for a
    /// malformed escape.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                guard let digit = hexValue(bytes[at + offset]) else { return nil }
                value = value << 4 | digit
            }
            return value
        }
        func append(_ scalar: Unicode.Scalar) { out.append(contentsOf: Array(String(scalar).utf8)) }
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { return nil }
            let next = bytes[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(next)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4(index) else { return nil }
                index += 4
                if (0xD800..<0xDC00).contains(unit), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u"), let low = hex4(index + 2), (0xDC00..<0xE000).contains(low)
                {
                    index += 6
                    append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                } else {
                    append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            default: return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
