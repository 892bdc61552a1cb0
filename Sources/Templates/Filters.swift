/// jinja2's filters that chat templates use, with jinja2's definitions, and `tojson` as transformers
/// redefines it: `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`
/// (no HTML escaping, unlike jinja2's own `tojson`).
enum Filters {
    static let names: Set<String> = [
        "trim", "length", "count", "tojson", "upper", "lower", "title", "capitalize", "default", "d", "join",
        "string", "int", "float", "list", "first", "last", "items", "selectattr", "rejectattr", "select", "reject",
        "map", "replace", "safe", "abs", "reverse", "unique", "e", "escape",
    ]

    static func apply(_ name: String, to value: Value, arguments: [Value], keywords: [(String, Value)],
                      renderer: Renderer) throws -> Value {
        func argument(_ index: Int, _ keyword: String) -> Value? {
            Methods.argument(arguments, keywords, index, keyword)
        }
        switch name {
        case "trim":
            let characters = try Methods.optionalString(argument(0, "chars"), "trim() characters")
            return .string(Strings.strip(value.pythonString, characters: characters, leading: true, trailing: true))
        case "length", "count":
            switch value {
            case .undefined: return .int(0)
            case .string(let string): return .int(string.unicodeScalars.count)
            case .array(let items): return .int(items.count)
            case .dict(let dict): return .int(dict.count)
            default: throw TemplateError(.render, "object of type '\(value.typeName)' has no len()")
            }
        case "tojson":
            let indent = argument(0, "indent")
            let sortKeys = argument(99, "sort_keys")?.truthy ?? false
            let ensureASCII = argument(99, "ensure_ascii")?.truthy ?? false
            var separators: (String, String)? = nil
            if case .array(let pair)? = argument(99, "separators"), pair.count == 2,
               case .string(let item) = pair[0], case .string(let key) = pair[1] {
                separators = (item, key)
            }
            return .string(try JSON.dumps(value, indent: indent, separators: separators, sortKeys: sortKeys,
                                          ensureASCII: ensureASCII))
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "title": return .string(Strings.title(value.pythonString))
        case "capitalize": return .string(Strings.capitalize(value.pythonString))
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            let boolean = argument(1, "boolean")?.truthy ?? false
            if value.isUndefined || (boolean && !value.truthy) { return fallback }
            return value
        case "join":
            let separator = argument(0, "d")?.pythonString ?? ""
            var items = try renderer.iterate(value)
            if let attribute = argument(1, "attribute") { items = items.map { lookup($0, attribute) } }
            let strings = items.map(\.pythonString)
            let length = strings.reduce(0) { $0 + $1.unicodeScalars.count } + separator.unicodeScalars.count * max(strings.count - 1, 0)
            guard length <= renderer.limits.maximumOutputLength else {
                throw TemplateError(.limit, "join would build \(length) characters, more than \(renderer.limits.maximumOutputLength)")
            }
            return .string(strings.joined(separator: separator))
        case "string":
            return .string(value.pythonString)
        case "int":
            let fallback = argument(0, "default") ?? .int(0)
            switch value {
            case .undefined(let name): throw renderer.undefinedError(name)
            case .int: return value
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .double(let number): return number.isFinite && abs(number) < 9e18 ? .int(Int(number)) : fallback
            case .string(let string):
                let trimmed = Strings.strip(string, characters: nil, leading: true, trailing: true)
                if let integer = Int(trimmed) { return .int(integer) }
                if let number = Double(trimmed), number.isFinite, abs(number) < 9e18 { return .int(Int(number)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = argument(0, "default") ?? .double(0)
            if case .undefined(let name) = value { throw renderer.undefinedError(name) }
            if let number = value.number { return .double(number) }
            if case .string(let string) = value,
               let number = Double(Strings.strip(string, characters: nil, leading: true, trailing: true)) {
                return .double(number)
            }
            return fallback
        case "list":
            return .array(try renderer.iterate(value))
        case "first":
            return try renderer.iterate(value).first ?? .undefined("first item of an empty sequence")
        case "last":
            if case .iterator = value { throw TemplateError(.render, "'generator' object is not reversible") }
            return try renderer.iterate(value).last ?? .undefined("last item of an empty sequence")
        case "reverse":
            if case .string(let string) = value { return .string(Strings.make(string.unicodeScalars.reversed())) }
            if case .iterator(let items) = value { return .array(items.reversed()) }  // jinja2 lists a generator
            return .iterator(try renderer.iterate(value).reversed())
        case "unique":
            var seen: [Value] = []
            for item in try renderer.iterate(value) where !seen.contains(where: { $0.equals(item) }) {
                seen.append(item)
            }
            return .iterator(seen)
        case "items":
            switch value {
            case .undefined: return .iterator([])
            case .dict(let dict): return .iterator(dict.pairs.map { .array([.string($0.0), $0.1]) })
            default: throw TemplateError(.render, "items filter needs a mapping, not '\(value.typeName)'")
            }
        case "selectattr", "rejectattr", "select", "reject":
            let byAttribute = name.hasSuffix("attr")
            var rest = arguments
            var attribute: Value? = nil
            if byAttribute {
                guard !rest.isEmpty else { throw TemplateError(.render, "\(name) needs an attribute name") }
                attribute = rest.removeFirst()
            }
            var test: String? = nil
            if !rest.isEmpty {
                guard case .string(let testName) = rest.removeFirst(), Tests.names.contains(testName) else {
                    throw TemplateError(.unsupported, "\(name) with an unknown test")
                }
                test = testName
            }
            let keep = !name.hasPrefix("reject")
            return .iterator(try renderer.iterate(value).filter { item in
                let subject = attribute.map { lookup(item, $0) } ?? item
                let passed = try test.map { try Tests.apply($0, to: subject, arguments: rest) } ?? subject.truthy
                return passed == keep
            })
        case "map":
            if let attribute = argument(99, "attribute") {
                let fallback = argument(99, "default")
                return .iterator(try renderer.iterate(value).map { item in
                    let found = lookup(item, attribute)
                    return found.isUndefined ? (fallback ?? found) : found
                })
            }
            guard case .string(let filter)? = arguments.first, names.contains(filter), filter != "map" else {
                throw TemplateError(.unsupported, "map() needs attribute= or the name of a supported filter")
            }
            let rest = Array(arguments.dropFirst())
            return .iterator(try renderer.iterate(value).map {
                try apply(filter, to: $0, arguments: rest, keywords: [], renderer: renderer)
            })
        case "replace":
            let old = try Methods.requiredString(argument(0, "old"), "replace() old")
            let new = try Methods.requiredString(argument(1, "new"), "replace() new")
            let count = argument(2, "count")?.integer ?? -1
            return .string(try Strings.replace(value.pythonString, old, new, count: count))
        case "safe":
            return value
        case "e", "escape":
            // transformers' environment does not autoescape; an explicit escape filter does HTML escaping.
            var text = value.pythonString
            for (from, to) in [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\"", "&#34;"), ("'", "&#39;")] {
                text = try Strings.replace(text, from, to, count: -1)
            }
            return .string(text)
        case "abs":
            switch value {
            case .undefined(let name): throw renderer.undefinedError(name)
            case .int(let integer) where integer != .min: return .int(abs(integer))
            case .double(let number): return .double(abs(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            default: throw TemplateError(.render, "bad operand type for abs(): '\(value.typeName)'")
            }
        default:
            throw TemplateError(.unsupported, "the '\(name)' filter is not supported")
        }
    }

    /// jinja2's `environment.getitem` with a dotted attribute path (`"function.name"`), as attribute filters use.
    private static func lookup(_ value: Value, _ attribute: Value) -> Value {
        guard case .string(let path) = attribute else {
            if case .array(let items) = value, let index = attribute.integer, items.indices.contains(index) {
                return items[index]
            }
            return .undefined("attribute")
        }
        var current = value
        for part in path.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            switch current {
            case .dict(let dict): current = dict[part] ?? .undefined(part)
            case .namespace(let namespace): current = namespace.attributes[part] ?? .undefined(part)
            case .array(let items):
                if let index = Int(part), items.indices.contains(index) { current = items[index] } else { return .undefined(part) }
            default: return .undefined(part)
            }
        }
        return current
    }
}
