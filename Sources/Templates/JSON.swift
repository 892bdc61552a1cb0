import Foundation

/// Python's `json.dumps` output, byte for byte: `", "` / `": "` separators (`","` with an indent), keys in
/// insertion order unless sorted, `ensure_ascii` off by default as transformers sets it, floats as Python
/// `repr`, NaN and infinities as `NaN` / `Infinity`. Reference: CPython `Lib/json/encoder.py`.
enum JSON {
    static func dumps(_ value: Value, indent: Value?, separators: (String, String)?, sortKeys: Bool,
                      ensureASCII: Bool) throws -> String {
        var indentText: String? = nil
        switch indent {
        case .int(let count)?: indentText = String(repeating: " ", count: max(0, min(count, 64)))
        case .string(let text)?:
            guard text.unicodeScalars.count <= 64 else { throw TemplateError(.limit, "tojson indent string longer than 64 characters") }
            indentText = text
        case .none?, nil, .undefined?: indentText = nil
        case let other?: throw TemplateError(.render, "tojson indent must be an integer or a string, not '\(other.typeName)'")
        }
        let (itemSeparator, keySeparator) = separators ?? (indentText == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        try encode(value, into: &out, indent: indentText, level: 0, itemSeparator: itemSeparator,
                   keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII, depth: 0)
        return out
    }

    private static func encode(_ value: Value, into out: inout String, indent: String?, level: Int,
                               itemSeparator: String, keySeparator: String, sortKeys: Bool, ensureASCII: Bool,
                               depth: Int) throws {
        guard depth < 256 else { throw TemplateError(.limit, "tojson: value nested too deeply") }
        func newline(_ level: Int) {
            if let indent { out += "\n" + String(repeating: indent, count: level) }
        }
        switch value {
        case .none: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let integer): out += String(integer)
        case .double(let number):
            if number.isNaN { out += "NaN" } else if number.isInfinite { out += number < 0 ? "-Infinity" : "Infinity" } else {
                out += Value.pythonFloat(number)
            }
        case .string(let string): out += quote(string, ensureASCII: ensureASCII)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += itemSeparator }
                newline(level + 1)
                try encode(item, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                           keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII, depth: depth + 1)
            }
            newline(level)
            out += "]"
        case .dict(let dict):
            try encodePairs(dict.pairs, into: &out, indent: indent, level: level, itemSeparator: itemSeparator,
                            keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII, depth: depth)
        case .iterator:
            throw TemplateError(.render, "tojson: Object of type generator is not JSON serializable")
        case .namespace(let namespace):
            // jinja2's Namespace is not a dict: json.dumps refuses it.
            _ = namespace
            throw TemplateError(.render, "tojson: Object of type Namespace is not JSON serializable")
        case .undefined(let name):
            throw TemplateError(.render, "tojson: '\(name)' is undefined")
        case .function(let function):
            throw TemplateError(.render, "tojson: function \(function.name) is not JSON serializable")
        }
    }

    private static func encodePairs(_ pairs: [(String, Value)], into out: inout String, indent: String?, level: Int,
                                    itemSeparator: String, keySeparator: String, sortKeys: Bool, ensureASCII: Bool,
                                    depth: Int) throws {
        guard !pairs.isEmpty else { out += "{}"; return }
        let ordered = sortKeys ? pairs.sorted { Strings.compare($0.0, $1.0) < 0 } : pairs
        out += "{"
        for (index, (key, item)) in ordered.enumerated() {
            if index > 0 { out += itemSeparator }
            if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
            out += quote(key, ensureASCII: ensureASCII) + keySeparator
            try encode(item, into: &out, indent: indent, level: level + 1, itemSeparator: itemSeparator,
                       keySeparator: keySeparator, sortKeys: sortKeys, ensureASCII: ensureASCII, depth: depth + 1)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += "}"
    }

    static func quote(_ string: String, ensureASCII: Bool) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        func hex(_ unit: UInt32) {
            out.append(contentsOf: String(format: "\\u%04x", unit).unicodeScalars)
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": out.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": out.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 {
                    hex(scalar.value)
                } else if ensureASCII && scalar.value > 0x7E {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        hex(0xD800 + (v >> 10))
                        hex(0xDC00 + (v & 0x3FF))
                    } else {
                        hex(scalar.value)
                    }
                } else {
                    out.append(scalar)
                }
            }
        }
        out.append("\"")
        return String(out)
    }
}
