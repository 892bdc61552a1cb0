import Foundation

/// Binary operators with Python's rules: `+` adds numbers and concatenates strings or lists (never a
/// string and a number), `~` concatenates the `str()` of both sides, comparisons of numbers or strings
/// (by code point), `in` for substrings, list items and dict keys. An undefined operand is an error,
/// except for `==`, `!=`, `in` and `~` (where jinja2's Undefined compares unequal, or renders as "").
enum Operators {
    static func apply(_ op: String, _ left: Value, _ right: Value) throws -> Value {
        switch op {
        case "==": return .bool(left.equals(right))
        case "!=": return .bool(!left.equals(right))
        case "~": return .string(left.pythonString + right.pythonString)
        case "in": return .bool(try contains(right, left))
        case "not in": return .bool(!(try contains(right, left)))
        default: break
        }
        if case .undefined(let name) = left { throw TemplateError(.render, "'\(name)' is undefined") }
        if case .undefined(let name) = right { throw TemplateError(.render, "'\(name)' is undefined") }
        switch op {
        case "<", ">", "<=", ">=": return .bool(try compare(op, left, right))
        case "+": return try add(left, right)
        case "-", "*", "/", "//", "%", "**": return try arithmetic(op, left, right)
        default: throw TemplateError(.unsupported, "operator '\(op)' is not supported")
        }
    }

    static func contains(_ container: Value, _ element: Value) throws -> Bool {
        switch container {
        case .string(let haystack):
            guard case .string(let needle) = element else {
                throw TemplateError(.render, "'in <string>' requires a string as left operand, not '\(element.typeName)'")
            }
            return Strings.find(needle, in: haystack) != nil
        case .array(let items), .iterator(let items): return items.contains { $0.equals(element) }
        case .dict(let dict):
            switch element {
            case .string(let key): return dict[key] != nil
            case .array, .dict, .namespace, .iterator:
                throw TemplateError(.render, "unhashable type: '\(element.typeName)'")
            default: return false
            }
        case .namespace(let namespace):
            guard case .string(let key) = element else { return false }
            return namespace.attributes[key] != nil
        case .undefined:
            return false  // jinja2's Undefined iterates as empty
        default:
            throw TemplateError(.render, "argument of type '\(container.typeName)' is not iterable")
        }
    }

    static func compare(_ op: String, _ left: Value, _ right: Value) throws -> Bool {
        let order: Int
        if let a = left.number, let b = right.number {
            order = a < b ? -1 : (a > b ? 1 : 0)
        } else if case .string(let a) = left, case .string(let b) = right {
            order = Strings.compare(a, b)
        } else {
            throw TemplateError(.render, "'\(op)' not supported between '\(left.typeName)' and '\(right.typeName)'")
        }
        switch op {
        case "<": return order < 0
        case ">": return order > 0
        case "<=": return order <= 0
        default: return order >= 0
        }
    }

    private static func add(_ left: Value, _ right: Value) throws -> Value {
        switch (left, right) {
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.array(let a), .array(let b)): return .array(a + b)
        default: return try arithmetic("+", left, right)
        }
    }

    private static func arithmetic(_ op: String, _ left: Value, _ right: Value) throws -> Value {
        if op == "*" {
            // Python repeats strings and lists by an integer.
            switch (left, right) {
            case (.string(let s), _) where right.integer != nil: return .string(try repeated(s, right.integer!))
            case (_, .string(let s)) where left.integer != nil: return .string(try repeated(s, left.integer!))
            default: break
            }
        }
        if op == "%", case .string = left {
            throw TemplateError(.unsupported, "printf-style '%' string formatting is not supported")
        }
        if let a = left.integer, let b = right.integer {
            switch op {
            case "+": return try checked(a.addingReportingOverflow(b))
            case "-": return try checked(a.subtractingReportingOverflow(b))
            case "*": return try checked(a.multipliedReportingOverflow(by: b))
            case "/":
                guard b != 0 else { throw TemplateError(.render, "division by zero") }
                return .double(Double(a) / Double(b))
            case "//", "%":
                guard b != 0 else { throw TemplateError(.render, "integer division or modulo by zero") }
                guard !(a == .min && b == -1) else { throw TemplateError(.render, "integer overflow in \(op)") }
                var quotient = a / b
                var remainder = a % b
                if remainder != 0 && ((remainder < 0) != (b < 0)) {
                    quotient -= 1
                    remainder += b
                }
                return .int(op == "//" ? quotient : remainder)
            default:  // "**"
                guard b >= 0 else { return .double(pow(Double(a), Double(b))) }
                var result = 1
                for _ in 0..<min(b, 64) {
                    let (product, overflow) = result.multipliedReportingOverflow(by: a)
                    if overflow { throw TemplateError(.render, "integer overflow in '**'") }
                    result = product
                }
                if b > 64 && abs(a) > 1 { throw TemplateError(.render, "integer overflow in '**'") }
                return .int(b > 64 && a == -1 ? (b % 2 == 0 ? 1 : -1) : result)
            }
        }
        guard let a = left.number, let b = right.number else {
            throw TemplateError(.render, "unsupported operand types for \(op): '\(left.typeName)' and '\(right.typeName)'")
        }
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw TemplateError(.render, "float division by zero") }
            return .double(a / b)
        case "//", "%":
            guard b != 0 else { throw TemplateError(.render, "float modulo by zero") }
            // CPython's float_divmod: fmod first, so 1 // 0.1 is 9.0 and 1 % 0.1 is 0.09999999999999995.
            var remainder = fmod(a, b)
            var quotient = (a - remainder) / b
            if remainder != 0 {
                if (b < 0) != (remainder < 0) {
                    remainder += b
                    quotient -= 1
                }
            } else {
                remainder = b < 0 ? -0.0 : 0.0
            }
            var floored: Double
            if quotient != 0 {
                floored = quotient.rounded(.down)
                if quotient - floored > 0.5 { floored += 1 }
            } else {
                floored = (a / b) < 0 ? -0.0 : 0.0
            }
            return .double(op == "//" ? floored : remainder)
        default: return .double(pow(a, b))
        }
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
        if result.overflow { throw TemplateError(.render, "integer overflow") }
        return .int(result.partialValue)
    }

    private static func repeated(_ string: String, _ count: Int) throws -> String {
        guard count > 0 else { return "" }
        let (total, overflow) = string.utf8.count.multipliedReportingOverflow(by: count)
        if overflow || total > 64 << 20 { throw TemplateError(.limit, "string repetition too large") }
        return String(repeating: string, count: count)
    }
}
