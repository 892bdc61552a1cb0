/// Reads `model.vocab` of a tokenizer.json as (token, value) pairs with each key exactly as written.
///
/// Swift dictionaries compare String keys by canonical equivalence, so tokens that differ only in Unicode
/// normalisation collapse into one key: Llama 2 has 6 such pairs, e.g. Greek ί with tonos (U+03AF, id 30207)
/// and with oxia (U+1F77, id 30873), and Greek text then got the wrong ids. This scanner runs on a document
/// `JSONParser` has already accepted, so it only needs to be exact on valid JSON and safe (no trap, no
/// recursion) on anything else.
struct RawVocabulary {
    /// A vocab value: an exact integer, or the text of anything else (for the error message).
    enum Value: Equatable, CustomStringConvertible {
        case integer(Int)
        case other(String)

        var description: String {
            switch self {
            case .integer(let value): return String(value)
            case .other(let text): return text
            }
        }
    }

    private let bytes: [UInt8]
    private var index = 0

    /// The entries of the last `model.vocab` object of the last root `model` (`JSONParser` keeps the last of
    /// repeated keys), or nil when there is none.
    static func entries(in bytes: [UInt8]) -> [(token: String, value: Value)]? {
        var scanner = RawVocabulary(bytes: bytes)
        return scanner.rootVocabulary()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func rootVocabulary() -> [(token: String, value: Value)]? {
        var found: [(token: String, value: Value)]? = nil
        skipWhitespace()
        forEachMember { scanner, key in
            guard key == "model" else { return false }
            var modelVocabulary: [(token: String, value: Value)]? = nil
            let isObject = scanner.forEachMember { scanner, key in
                guard key == "vocab" else { return false }
                var entries: [(token: String, value: Value)] = []
                let isObject = scanner.forEachMember { scanner, key in
                    entries.append((key, scanner.value()))
                    return true
                }
                if isObject { modelVocabulary = entries }
                return true
            }
            if isObject { found = modelVocabulary }
            return true
        }
        return found
    }

    // MARK: Scanning

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    /// Calls `body` with each key of the object at the cursor, the cursor on the member's value. `body` returns
    /// whether it consumed the value; if not, the value is skipped. Returns false (consuming the value) when
    /// the cursor is not on an object.
    @discardableResult
    private mutating func forEachMember(_ body: (inout RawVocabulary, String) -> Bool) -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { skipValue(); return false }
        index += 1
        while true {
            skipWhitespace()
            guard let byte = peek() else { return true }
            if byte == UInt8(ascii: "}") { index += 1; return true }
            if byte == UInt8(ascii: ",") { index += 1; continue }
            guard byte == UInt8(ascii: "\"") else { index += 1; continue }  // not valid JSON: keep going safely
            let key = string()
            skipWhitespace()
            if peek() == UInt8(ascii: ":") { index += 1 }
            skipWhitespace()
            let start = index
            if !body(&self, key) || index == start { skipValue() }
        }
    }

    /// The string at the cursor (which is on its opening quote), escapes decoded.
    private mutating func string() -> String {
        index += 1
        var utf8: [UInt8] = []
        var pendingHighSurrogate: UInt32? = nil
        func append(_ scalar: UInt32) {
            let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            utf8.append(contentsOf: String(value).utf8)
        }
        while let byte = peek() {
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else {
                if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
                utf8.append(byte)
                continue
            }
            guard let escape = peek() else { break }
            index += 1
            if escape == UInt8(ascii: "u") {
                let code = hex4()
                if let high = pendingHighSurrogate {
                    pendingHighSurrogate = nil
                    if (0xDC00...0xDFFF).contains(code) {
                        append(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
                        continue
                    }
                    append(high)  // a lone high surrogate becomes U+FFFD
                }
                if (0xD800...0xDBFF).contains(code) { pendingHighSurrogate = code } else { append(code) }
                continue
            }
            if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
            switch escape {
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            default: utf8.append(escape)  // \" \\ \/
            }
        }
        if let high = pendingHighSurrogate { append(high) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Four hex digits at the cursor (fewer at the end of the input); 0xFFFD when they are not hex.
    private mutating func hex4() -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexDigit(byte) else { return 0xFFFD }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The value at the cursor: an integer when it is a number without fraction or exponent that fits an Int.
    private mutating func value() -> Value {
        skipWhitespace()
        let start = index
        skipValue()
        let text = String(decoding: bytes[start..<max(start, index)], as: UTF8.self)
        let isInteger = !text.isEmpty && text.utf8.enumerated().allSatisfy { offset, byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (offset == 0 && byte == UInt8(ascii: "-"))
        }
        if isInteger, let integer = Int(text) { return .integer(integer) }
        return .other(String(text.prefix(40)))
    }

    /// Moves the cursor past the value at it. Nesting is counted, not recursed into.
    private mutating func skipValue() {
        skipWhitespace()
        var depth = 0
        repeat {
            guard let byte = peek() else { return }
            switch byte {
            case UInt8(ascii: "\""):
                _ = string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return }  // the end of the enclosing container
                depth -= 1
                index += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { return }
                index += 1
            default:
                // A number, literal or whitespace: up to the next structural character.
                index += 1
                while let next = peek(), !Self.isStructural(next) { index += 1 }
                let last = index
                skipWhitespace()
                if depth == 0 { index = last; return }
            }
            skipWhitespace()
        } while depth > 0
    }

    private static func isStructural(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ","),
             UInt8(ascii: ":"), UInt8(ascii: "\""), 0x20, 0x0A, 0x0D, 0x09:
            return true
        default:
            return false
        }
    }
}
