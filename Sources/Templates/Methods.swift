/// Methods templates call on values: `str` methods (`strip`, `startswith`, `split`, `replace`, ...) and
/// read-only `dict` methods (`items`, `keys`, `values`, `get`). Mutating methods (`list.append`,
/// `dict.update`) are refused, as transformers' `ImmutableSandboxedEnvironment` refuses them.
enum Methods {
    static func bind(_ name: String, to value: Value) -> Value? {
        switch value {
        case .string(let string): return stringMethod(name, string)
        case .dict(let dict): return dictMethod(name, dict)
        default: return nil
        }
    }

    private static func method(_ name: String, _ body: @escaping ([Value], [(String, Value)]) throws -> Value) -> Value {
        .function(Value.Function(name: name, call: body))
    }

    static func argument(_ arguments: [Value], _ keywords: [(String, Value)], _ index: Int, _ name: String) -> Value? {
        if index < arguments.count { return arguments[index] }
        return keywords.first { $0.0 == name }?.1
    }

    static func optionalString(_ value: Value?, _ what: String) throws -> String? {
        guard let value, !value.isNone else { return nil }
        guard case .string(let string) = value else {
            throw TemplateError(.render, "\(what) must be a string, not '\(value.typeName)'")
        }
        return string
    }

    static func requiredString(_ value: Value?, _ what: String) throws -> String {
        guard let string = try optionalString(value, what) else {
            throw TemplateError(.render, "\(what) is missing")
        }
        return string
    }

    private static func stringMethod(_ name: String, _ string: String) -> Value? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return method(name) { arguments, keywords in
                let characters = try optionalString(argument(arguments, keywords, 0, "chars"), "\(name)() argument")
                return .string(Strings.strip(string, characters: characters, leading: name != "rstrip",
                                             trailing: name != "lstrip"))
            }
        case "startswith", "endswith":
            return method(name) { arguments, keywords in
                guard let candidate = argument(arguments, keywords, 0, "prefix") else {
                    throw TemplateError(.render, "\(name)() takes one argument")
                }
                let options: [Value]
                if case .array(let items) = candidate { options = items } else { options = [candidate] }
                for option in options {
                    let text = try requiredString(option, "\(name)() argument")
                    if name == "startswith" ? Strings.hasPrefix(string, text) : Strings.hasSuffix(string, text) {
                        return .bool(true)
                    }
                }
                return .bool(false)
            }
        case "split":
            return method(name) { arguments, keywords in
                let separator = try optionalString(argument(arguments, keywords, 0, "sep"), "split() separator")
                let maximum = argument(arguments, keywords, 1, "maxsplit")?.integer ?? -1
                return .array(try Strings.split(string, separator: separator, maximum: maximum).map(Value.string))
            }
        case "replace":
            return method(name) { arguments, keywords in
                let old = try requiredString(argument(arguments, keywords, 0, "old"), "replace() old")
                let new = try requiredString(argument(arguments, keywords, 1, "new"), "replace() new")
                let count = argument(arguments, keywords, 2, "count")?.integer ?? -1
                return .string(try Strings.replace(string, old, new, count: count))
            }
        case "upper": return method(name) { _, _ in .string(string.uppercased()) }
        case "lower": return method(name) { _, _ in .string(string.lowercased()) }
        case "title": return method(name) { _, _ in .string(Strings.pythonTitle(string)) }
        case "capitalize": return method(name) { _, _ in .string(Strings.capitalize(string)) }
        case "find":
            return method(name) { arguments, keywords in
                let needle = try requiredString(argument(arguments, keywords, 0, "sub"), "find() argument")
                return .int(Strings.find(needle, in: string) ?? -1)
            }
        case "count":
            return method(name) { arguments, keywords in
                let needle = Strings.scalars(try requiredString(argument(arguments, keywords, 0, "sub"), "count() argument"))
                let haystack = Strings.scalars(string)
                if needle.isEmpty { return .int(haystack.count + 1) }
                var total = 0
                var index = 0
                while let found = Strings.find(needle, in: haystack, from: index) {
                    total += 1
                    index = found + needle.count
                }
                return .int(total)
            }
        case "join":
            return method(name) { arguments, _ in
                guard case .array(let items)? = arguments.first else {
                    throw TemplateError(.render, "join() takes a list")
                }
                return .string(try items.map { try requiredString($0, "join() item") }.joined(separator: string))
            }
        default:
            return nil
        }
    }

    private static func dictMethod(_ name: String, _ dict: Value.Dictionary) -> Value? {
        switch name {
        case "items":
            return method(name) { _, _ in .array(dict.pairs.map { .array([.string($0.0), $0.1]) }) }
        case "keys":
            return method(name) { _, _ in .array(dict.keys.map(Value.string)) }
        case "values":
            return method(name) { _, _ in .array(dict.pairs.map(\.1)) }
        case "get":
            return method(name) { arguments, _ in
                guard case .string(let key)? = arguments.first else { return arguments.count > 1 ? arguments[1] : .none }
                return dict[key] ?? (arguments.count > 1 ? arguments[1] : .none)
            }
        default:
            return nil
        }
    }
}
