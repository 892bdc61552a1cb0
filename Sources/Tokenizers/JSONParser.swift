import Foundation

/// A JSON parser for tokenizer.json that yields plain Swift values: `[String: Any]`, `[Any]`, `String`, `Int`
/// (integers that fit), `Double` (other numbers), `Bool` and `NSNull`.
///
/// Not JSONSerialization: its dictionaries keep keys that are distinct as NSStrings but equal as Swift
/// Strings (canonically equivalent, like Llama 2's Greek ί with tonos and with oxia), and casting one to
/// `[String: Any]` can trap ("Dictionary literal contains duplicate keys") depending on the hash seed.
/// Here a repeated key (exactly or canonically) keeps its last value, as JSONSerialization does for exact
/// repeats; `RawVocabulary` reads `model.vocab` with its keys exactly as written.
struct JSONParser {
    /// Containers may nest this deep: tokenizer.json nests about 6 levels; the parser recurses once per level.
    static let maximumDepth = 128

    private let bytes: [UInt8]
    private var index = 0

    /// The value of the whole document.
    /// - file: named in errors, e.g. "tokenizer.json: invalid JSON at byte 12: expected ':'".
    static func parse(_ bytes: [UInt8], file: String) throws -> Any {
        var parser = JSONParser(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }  // a UTF-8 byte order mark
        do {
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == bytes.count else { throw parser.failure("unexpected text after the document") }
            return value
        } catch let error as Failure {
            throw TokenizerError.invalidJSON(file: file, reason: "invalid JSON at byte \(error.offset): \(error.reason)")
        }
    }

    private struct Failure: Error {
        let offset: Int
        let reason: String
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard peek() == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    private mutating func value(depth: Int) throws -> Any {
        skipWhitespace()
        guard let byte = peek() else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""):
            return try string()
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        case UInt8(ascii: "n"):
            try literal("null")
            return NSNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw failure("unexpected character")
        }
    }

    private mutating func literal(_ word: String) throws {
        let count = word.utf8.count
        // safe: index <= bytes.count, and index + count is formed only once it is known to be <= bytes.count.
        guard bytes.count - index >= count, bytes[index..<(index + count)].elementsEqual(word.utf8) else {  // safe: sum formed after the bound check
            throw failure("expected \(word)")
        }
        index += count
    }

    private mutating func object(depth: Int) throws -> [String: Any] {
        index += 1  // {
        var result: [String: Any] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return result }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            result[key] = try value(depth: depth)
            skipWhitespace()
            guard let next = peek() else { throw failure("unexpected end of input in an object") }
            index += 1
            if next == UInt8(ascii: "}") { return result }
            guard next == UInt8(ascii: ",") else { index -= 1; throw failure("expected ',' or '}'") }
        }
    }

    private mutating func array(depth: Int) throws -> [Any] {
        index += 1  // [
        var result: [Any] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return result }
        while true {
            result.append(try value(depth: depth))
            skipWhitespace()
            guard let next = peek() else { throw failure("unexpected end of input in an array") }
            index += 1
            if next == UInt8(ascii: "]") { return result }
            guard next == UInt8(ascii: ",") else { index -= 1; throw failure("expected ',' or ']'") }
        }
    }

    /// The string at the cursor (on its opening quote). Invalid UTF-8 and lone surrogates become U+FFFD.
    private mutating func string() throws -> String {
        index += 1  // "
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw failure("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek() else { throw failure("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar), peek() == UInt8(ascii: "\\"),
                       index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save  // a lone high surrogate; the next escape stands alone
                        }
                    }
                    utf8.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
                default:
                    index -= 1
                    throw failure("invalid escape")
                }
            case 0x00..<0x20:
                index -= 1
                throw failure("control character in a string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw failure("unterminated \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// A number: Int when it is an integer that fits, else Double.
    private mutating func number() throws -> Any {
        let start = index
        var isInteger = true
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw failure("invalid number") }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let digit = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { throw failure("invalid number") }
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { throw failure("invalid number") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int(text) { return integer }
        guard let double = Double(text) else { throw failure("invalid number") }
        return double
    }

    private mutating func skipDigits() {
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
    }
}
