/// jinja2's tests (`x is defined`, `x is none`, `x is string`, ...), with its definitions.
enum Tests {
    static let names: Set<String> = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false",
        "mapping", "iterable", "sequence", "callable", "equalto", "eq", "==", "ne", "!=", "sameas", "odd", "even",
        "divisibleby", "in", "lower", "upper", "lt", "le", "gt", "ge",
    ]

    static func apply(_ name: String, to value: Value, arguments: [Value]) throws -> Bool {
        func argument() throws -> Value {
            guard let first = arguments.first else { throw TemplateError(.render, "the '\(name)' test needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "string":
            if case .string = value { return true }
            return false
        case "number":
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .double = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "mapping":
            if case .dict = value { return true }
            return false
        case "iterable", "sequence":
            switch value {
            case .string, .array, .dict: return true
            case .undefined, .iterator: return name == "iterable"  // iterable, but not sequences
            default: return false
            }
        case "callable":
            if case .function = value { return true }
            return false
        case "equalto", "eq", "==": return value.equals(try argument())
        case "ne", "!=": return !value.equals(try argument())
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "odd", "even", "divisibleby":
            // Python's `value % 2 == 1`, `value % 2 == 0`, `value % num == 0` (floats included).
            let divisor = name == "divisibleby" ? try argument() : .int(2)
            let remainder = try Operators.apply("%", value, divisor)
            return remainder.equals(.int(name == "odd" ? 1 : 0))
        case "in": return try Operators.contains(try argument(), value)
        case "lower", "upper":
            // Python's str.islower() / isupper(): at least one cased character, and all cased ones in that case.
            guard case .string(let string) = value else { return false }
            let lower = string.lowercased(), upper = string.uppercased()
            guard lower != upper else { return false }
            return name == "lower" ? string == lower : string == upper
        case "lt", "le", "gt", "ge":
            let op = ["lt": "<", "le": "<=", "gt": ">", "ge": ">="][name]!
            return try Operators.compare(op, value, try argument())
        default:
            throw TemplateError(.unsupported, "the '\(name)' test is not supported")
        }
    }
}
