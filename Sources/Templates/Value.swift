import Foundation

/// A value inside a template, with Python's semantics (what jinja2 templates see): truthiness, equality,
/// `str()` and `repr()`. Strings compare and measure by Unicode scalars, as Python's `str` does
/// (Swift's `==` would equate canonically equivalent strings that Python tells apart).
enum Value {
    /// A name that is not defined, or a missing attribute or item: falsy, renders as "", iterates as empty.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    /// What jinja2's `select`, `reject`, `selectattr`, `rejectattr`, `map`, `unique`, `items` and `reverse`
    /// return: a one-pass iterator, not a list. It is always truthy, has no length, cannot be indexed or
    /// serialized, and iterates (or `| list`s) to its items.
    case iterator([Value])
    case dict(Dictionary)
    case namespace(Namespace)
    case function(Function)

    /// An insertion-ordered string-keyed dictionary (Python's `dict`).
    struct Dictionary {
        private(set) var keys: [String] = []
        private var storage: [ScalarKey: Value] = [:]

        init() {}

        init(_ pairs: [(String, Value)]) {
            for (key, value) in pairs { self[key] = value }
        }

        subscript(key: String) -> Value? {
            get { storage[ScalarKey(key)] }
            set {
                let scalarKey = ScalarKey(key)
                if storage[scalarKey] == nil, newValue != nil { keys.append(key) }
                if newValue == nil, storage[scalarKey] != nil {
                    keys.removeAll { ScalarKey($0) == scalarKey }
                }
                storage[scalarKey] = newValue
            }
        }

        var count: Int { keys.count }
        var pairs: [(String, Value)] { keys.map { ($0, storage[ScalarKey($0)]!) } }
    }

    /// Dictionary keys compared by Unicode scalars, as Python compares `str`.
    /// (UTF-8 bytes are compared: equal bytes are equal scalars, and no canonical equivalence is applied.)
    struct ScalarKey: Hashable {
        let string: String
        init(_ string: String) { self.string = string }

        static func == (a: ScalarKey, b: ScalarKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

        func hash(into hasher: inout Hasher) {
            hasher.combine(string.utf8.count)
            for byte in string.utf8 { hasher.combine(byte) }
        }
    }

    /// jinja2's `namespace()`: the one mutable object a template can create (reference semantics).
    final class Namespace {
        var attributes: Dictionary
        init(_ attributes: Dictionary) { self.attributes = attributes }
    }

    /// A global function or a bound method.
    struct Function {
        let name: String
        let call: (_ arguments: [Value], _ keywords: [(String, Value)]) throws -> Value
    }
}

extension Value {
    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let value): return value
        case .int(let value): return value != 0
        case .double(let value): return value != 0
        case .string(let value): return !value.unicodeScalars.isEmpty
        case .array(let value): return !value.isEmpty
        case .dict(let value): return value.count > 0
        case .namespace, .function, .iterator: return true
        }
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .iterator: return "generator"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// A number as Double (bools are ints in Python).
    var number: Double? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case .bool(let value): return value ? 1 : 0
        case .int(let value): return value
        default: return nil
        }
    }

    /// Python `==`: numbers across int/float/bool, deep equality of lists and dicts, strings by scalars.
    func equals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case (.dict(let a), .dict(let b)):
            guard a.count == b.count else { return false }
            return a.pairs.allSatisfy { key, value in b[key].map { value.equals($0) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let a = number, let b = other.number { return a == b }
            return false
        }
    }

    /// Python `str()`: what `{{ value }}` renders (undefined renders as "").
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let value): return value
        default: return pythonRepr
        }
    }

    /// Python `repr()` (used inside `str()` of lists and dicts).
    var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .double(let value): return Value.pythonFloat(value)
        case .string(let value): return Value.pythonStringRepr(value)
        case .array(let values): return "[" + values.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dict(let dict):
            return "{" + dict.pairs.map { Value.pythonStringRepr($0.0) + ": " + $0.1.pythonRepr }
                .joined(separator: ", ") + "}"
        case .namespace(let namespace):
            return "<Namespace " + namespace.attributes.pairs.map { "\($0.0)=\($0.1.pythonRepr)" }
                .joined(separator: ", ") + ">"
        case .function(let function): return "<function \(function.name)>"
        case .iterator: return "<generator object>"
        }
    }

    /// Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 and from 1e16.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e16 {
            return String(format: "%.1f", value)
        }
        var text = "\(value)"  // Swift's description is also shortest round-trip
        if let e = text.firstIndex(of: "e") {
            let mantissa = text[..<e]
            var exponent = String(text[text.index(after: e)...])
            var sign = "+"
            if exponent.hasPrefix("-") {
                sign = "-"
                exponent.removeFirst()
            } else if exponent.hasPrefix("+") {
                exponent.removeFirst()
            }
            if exponent.count < 2 { exponent = "0" + exponent }
            text = mantissa + "e" + sign + exponent
        }
        return text
    }

    static func pythonStringRepr(_ string: String) -> String {
        let hasSingle = string.unicodeScalars.contains("'")
        let hasDouble = string.unicodeScalars.contains("\"")
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                if scalar == quote {
                    out.append("\\")
                    out.append(scalar)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out.append(contentsOf: String(format: "\\x%02x", scalar.value).unicodeScalars)
                } else {
                    out.append(scalar)
                }
            }
        }
        out.append(quote)
        return String(out)
    }
}
