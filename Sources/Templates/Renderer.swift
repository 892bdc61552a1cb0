import Foundation

/// Walks the syntax tree once per `render` call. Scoping follows jinja2: a `for` body is its own scope
/// (a `set` inside a loop does not leak out, which is why templates use `namespace()`); `if` is not.
final class Renderer {
    private var scopes: [[Value.ScalarKey: Value]]
    private var output = String.UnicodeScalarView()
    private var outputLength = 0
    private var iterations = 0
    private var depth = 0
    let limits: TemplateLimits

    enum Flow { case normal, breakLoop, continueLoop }

    init(globals: [String: Value], limits: TemplateLimits) {
        var root: [Value.ScalarKey: Value] = [:]
        for (name, value) in globals { root[Value.ScalarKey(name)] = value }
        scopes = [root]
        self.limits = limits
    }

    func render(_ nodes: [Node]) throws -> String {
        _ = try execute(nodes)
        return String(output)
    }

    // MARK: Statements

    private func emit(_ text: String) throws {
        let count = text.unicodeScalars.count
        outputLength += count
        if outputLength > limits.maximumOutputLength {
            throw TemplateError(.limit, "rendered text is longer than \(limits.maximumOutputLength) characters")
        }
        output.append(contentsOf: text.unicodeScalars)
    }

    private func execute(_ nodes: [Node]) throws -> Flow {
        depth += 1
        defer { depth -= 1 }
        if depth > limits.maximumDepth {
            throw TemplateError(.limit, "nesting deeper than \(limits.maximumDepth) levels")
        }
        for node in nodes {
            switch node {
            case .text(let text):
                try emit(text)
            case .output(let expression):
                let value = try evaluate(expression)
                switch value {
                case .function:
                    // Printing a function object is never what a chat template means.
                    throw TemplateError(.render, "cannot print a function", line: expression.line)
                case .iterator:
                    // jinja2 prints "<generator object ... at 0x...>", an address: never what a template means.
                    throw TemplateError(.render, "cannot print a generator (filter it with '| list' first)",
                                        line: expression.line)
                default: break
                }
                try emit(value.pythonString)
            case .conditional(let branches, let otherwise):
                var taken: [Node]? = nil
                for (condition, body) in branches where try evaluate(condition).truthy {
                    taken = body
                    break
                }
                let flow = try execute(taken ?? otherwise)
                if flow != .normal { return flow }
            case .loop(let loop):
                try run(loop)
            case .assign(let target, let expression, let line):
                let value = try evaluate(expression)
                try assign(target, value, line: line)
            case .assignBlock(let name, let body, _):
                let saved = output
                let savedLength = outputLength
                output = String.UnicodeScalarView()
                _ = try execute(body)
                let captured = String(output)
                output = saved
                outputLength = savedLength
                set(name, .string(captured))
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            case .generation(let body):
                let flow = try execute(body)
                if flow != .normal { return flow }
            }
        }
        return .normal
    }

    private func set(_ name: String, _ value: Value) {
        scopes[scopes.count - 1][Value.ScalarKey(name)] = value
    }

    private func lookup(_ name: String) -> Value {
        let key = Value.ScalarKey(name)
        for scope in scopes.reversed() {
            if let value = scope[key] { return value }
        }
        return .undefined(name)
    }

    private func assign(_ target: AssignTarget, _ value: Value, line: Int) throws {
        switch target {
        case .name(let name):
            set(name, value)
        case .names(let names):
            let items = try iterate(value, line: line)
            guard items.count == names.count else {
                throw TemplateError(.render, "cannot unpack \(items.count) values into \(names.count) names", line: line)
            }
            for (name, item) in zip(names, items) { set(name, item) }
        case .attribute(let object, let attribute):
            guard case .namespace(let namespace) = lookup(object) else {
                throw TemplateError(.render, "cannot assign attribute '\(attribute)' on '\(object)': only namespace() objects accept attribute assignment", line: line)
            }
            guard !attribute.hasPrefix("_") else {
                throw TemplateError(.render, "namespace attributes cannot start with '_' ('\(attribute)')", line: line)
            }
            // Values kept across iterations in a namespace are the only ones that can grow without bound.
            guard !value.nests(deeperThan: limits.maximumDepth, orContains: namespace) else {
                throw TemplateError(.limit, "value assigned to '\(object).\(attribute)' nests deeper than \(limits.maximumDepth) levels or contains the namespace itself", line: line)
            }
            namespace.attributes[attribute] = value
        }
    }

    /// The items a `for` loop or a filter walks: list items, dict keys, string characters (Unicode scalars).
    func iterate(_ value: Value, line: Int? = nil) throws -> [Value] {
        switch value {
        case .undefined: return []
        case .array(let items), .iterator(let items): return items
        case .dict(let dict): return dict.keys.map { .string($0) }
        case .string(let string): return string.unicodeScalars.map { .string(String($0)) }
        default:
            throw TemplateError(.render, "'\(value.typeName)' object is not iterable", line: line)
        }
    }

    private func run(_ loop: Loop) throws {
        var items = try iterate(try evaluate(loop.iterable), line: loop.line)
        // jinja2 gives each iteration a fresh scope: a `set` in the body starts from the outer value every time.
        scopes.append([:])
        defer { scopes.removeLast() }
        func bind(_ item: Value) throws {
            if loop.targets.count == 1 {
                set(loop.targets[0], item)
            } else {
                try assign(.names(loop.targets), item, line: loop.line)
            }
        }
        if let filter = loop.filter {
            // `for x in xs if condition`: the loop variable (and loop.length) sees only the kept items.
            var kept: [Value] = []
            for item in items {
                try countIteration(line: loop.line)
                try bind(item)
                if try evaluate(filter).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise)
            return
        }
        let outer = lookup("loop")
        for (position, item) in items.enumerated() {
            try countIteration(line: loop.line)
            let length = items.count
            var info = Value.Dictionary()
            info["index"] = .int(position + 1)
            info["index0"] = .int(position)
            info["revindex"] = .int(length - position)
            info["revindex0"] = .int(length - position - 1)
            info["first"] = .bool(position == 0)
            info["last"] = .bool(position == length - 1)
            info["length"] = .int(length)
            info["depth"] = .int(1)
            info["depth0"] = .int(0)
            info["previtem"] = position > 0 ? items[position - 1] : .undefined("loop.previtem")
            info["nextitem"] = position + 1 < length ? items[position + 1] : .undefined("loop.nextitem")
            info["cycle"] = .function(Value.Function(name: "loop.cycle") { arguments, _ in
                guard !arguments.isEmpty else { throw TemplateError(.render, "loop.cycle() needs at least one value") }
                return arguments[position % arguments.count]
            })
            if !outer.isUndefined { info["parent"] = outer }
            scopes[scopes.count - 1] = [:]
            try bind(item)
            set("loop", .dict(info))
            let flow = try execute(loop.body)
            if flow == .breakLoop { break }
        }
    }

    private func countIteration(line: Int) throws {
        iterations += 1
        if iterations > limits.maximumIterations {
            throw TemplateError(.limit, "more than \(limits.maximumIterations) loop iterations", line: line)
        }
    }

    // MARK: Expressions

    func evaluate(_ expression: Expression) throws -> Value {
        depth += 1
        defer { depth -= 1 }
        if depth > limits.maximumDepth * 4 {
            throw TemplateError(.limit, "expression nested too deeply", line: expression.line)
        }
        do {
            return try evaluateKind(expression)
        } catch let error as TemplateError {
            throw error.at(line: expression.line)
        }
    }

    private func evaluateKind(_ expression: Expression) throws -> Value {
        switch expression.kind {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name)
        case .list(let items):
            return .array(try items.map(evaluate))
        case .dict(let pairs):
            var dict = Value.Dictionary()
            for (keyExpression, valueExpression) in pairs {
                guard case .string(let key) = try evaluate(keyExpression) else {
                    throw TemplateError(.unsupported, "dictionary keys must be strings")
                }
                dict[key] = try evaluate(valueExpression)
            }
            return .dict(dict)
        case .attribute(let base, let name):
            return try attribute(of: try evaluate(base), name, baseDescription: base)
        case .item(let base, let keyExpression):
            return try item(of: try evaluate(base), try evaluate(keyExpression), baseDescription: base)
        case .slice(let base, let start, let stop, let step):
            return try slice(try evaluate(base), start: try start.map(evaluate), stop: try stop.map(evaluate),
                             step: try step.map(evaluate))
        case .call(let callee, let argumentExpressions, let keywordExpressions):
            let function = try evaluate(callee)
            let arguments = try argumentExpressions.map(evaluate)
            let keywords = try keywordExpressions.map { ($0.0, try evaluate($0.1)) }
            guard case .function(let body) = function else {
                if case .undefined(let name) = function {
                    throw TemplateError(.render, "'\(name)' is undefined and cannot be called")
                }
                throw TemplateError(.render, "'\(function.typeName)' object is not callable")
            }
            return try checkedSize(try body.call(arguments, keywords))
        case .filter(let base, let name, let argumentExpressions, let keywordExpressions):
            let value = try evaluate(base)
            let arguments = try argumentExpressions.map(evaluate)
            let keywords = try keywordExpressions.map { ($0.0, try evaluate($0.1)) }
            return try checkedSize(try Filters.apply(name, to: value, arguments: arguments, keywords: keywords,
                                                     renderer: self))
        case .test(let base, let name, let argumentExpressions, let negated):
            let value = try evaluate(base)
            let arguments = try argumentExpressions.map(evaluate)
            let result = try Tests.apply(name, to: value, arguments: arguments)
            return .bool(negated ? !result : result)
        case .unary(let op, let operandExpression):
            let operand = try evaluate(operandExpression)
            if case .undefined(let name) = operand { throw undefinedError(name) }
            switch (op, operand) {
            case ("-", .int(let value)):
                let (negated, overflow) = (0).subtractingReportingOverflow(value)
                if overflow { throw TemplateError(.render, "integer overflow") }
                return .int(negated)
            case ("-", .bool(let value)): return .int(value ? -1 : 0)
            case ("-", .double(let value)): return .double(-value)
            case ("+", .int), ("+", .double): return operand
            case ("+", .bool(let value)): return .int(value ? 1 : 0)
            default: throw TemplateError(.render, "bad operand type for unary \(op): '\(operand.typeName)'")
            }
        case .binary(let op, let left, let right):
            return try checkedSize(try Operators.apply(op, try evaluate(left), try evaluate(right)))
        case .and(let left, let right):
            let value = try evaluate(left)
            return value.truthy ? try evaluate(right) : value
        case .or(let left, let right):
            let value = try evaluate(left)
            return value.truthy ? value : try evaluate(right)
        case .not(let operand):
            return .bool(!(try evaluate(operand).truthy))
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).truthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined("conditional expression")
        }
    }

    private func checkedSize(_ value: Value) throws -> Value {
        if case .string(let string) = value, string.utf8.count > limits.maximumOutputLength * 4 {
            throw TemplateError(.limit, "a string longer than \(limits.maximumOutputLength) characters")
        }
        if case .array(let items) = value, items.count > limits.maximumIterations {
            throw TemplateError(.limit, "a list longer than \(limits.maximumIterations) items")
        }
        return value
    }

    func undefinedError(_ name: String) -> TemplateError {
        TemplateError(.render, "'\(name)' is undefined")
    }

    private func describe(_ expression: Expression) -> String {
        switch expression.kind {
        case .name(let name): return name
        case .attribute(let base, let name): return describe(base) + "." + name
        case .item(let base, let key):
            if case .literal(let value) = key.kind { return describe(base) + "[" + value.pythonRepr + "]" }
            return describe(base) + "[...]"
        default: return "value"
        }
    }

    /// `a.b`: jinja2 tries the Python attribute first (dict methods, string methods), then the item.
    private func attribute(of base: Value, _ name: String, baseDescription: Expression) throws -> Value {
        switch base {
        case .undefined(let missing):
            throw TemplateError(.render, "'\(missing)' is undefined (reading its attribute '\(name)')")
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(describe(baseDescription) + "." + name)
        case .dict(let dict):
            if let method = Methods.bind(name, to: base) { return method }
            return dict[name] ?? .undefined(describe(baseDescription) + "." + name)
        default:
            if let method = Methods.bind(name, to: base) { return method }
            return .undefined(describe(baseDescription) + "." + name)
        }
    }

    /// `a[b]`: jinja2 tries the item first, then the attribute.
    private func item(of base: Value, _ key: Value, baseDescription: Expression) throws -> Value {
        let missing = Value.undefined(describe(baseDescription) + "[" + key.pythonRepr + "]")
        switch (base, key) {
        case (.undefined(let name), _):
            throw TemplateError(.render, "'\(name)' is undefined (reading its item \(key.pythonRepr))")
        case (.dict(let dict), .string(let name)):
            return dict[name] ?? Methods.bind(name, to: base) ?? missing
        case (.namespace(let namespace), .string(let name)):
            return namespace.attributes[name] ?? missing
        case (.array(let items), _):
            guard let index = key.integer else { return missing }
            let resolved = index < 0 ? index + items.count : index
            return items.indices.contains(resolved) ? items[resolved] : missing
        case (.string(let string), _):
            if case .string(let name) = key { return Methods.bind(name, to: base) ?? missing }
            guard let index = key.integer else { return missing }
            let scalars = Array(string.unicodeScalars)
            let resolved = index < 0 ? index + scalars.count : index
            return scalars.indices.contains(resolved) ? .string(String(scalars[resolved])) : missing
        case (_, .string(let name)):
            return Methods.bind(name, to: base) ?? missing
        default:
            return missing
        }
    }

    /// Python slicing of lists and strings, with negative indices and steps.
    private func slice(_ base: Value, start: Value?, stop: Value?, step: Value?) throws -> Value {
        func bound(_ value: Value?) throws -> Int? {
            guard let value, !value.isNone else { return nil }
            guard let integer = value.integer else {
                throw TemplateError(.render, "slice indices must be integers or none, not '\(value.typeName)'")
            }
            return integer
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw TemplateError(.render, "slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ index: Int?, _ defaultValue: Int, lower: Int, upper: Int) -> Int {
                guard var index else { return defaultValue }
                if index < 0 { index += count }
                return min(max(index, lower), upper)
            }
            if stepValue > 0 {
                let from = clamp(try bound(start), 0, lower: 0, upper: count)
                let to = clamp(try bound(stop), count, lower: 0, upper: count)
                return from < to ? Array(stride(from: from, to: to, by: stepValue)) : []
            }
            let from = clamp(try bound(start), count - 1, lower: -1, upper: count - 1)
            let to = clamp(try bound(stop), -1, lower: -1, upper: count - 1)
            return from > to ? Array(stride(from: from, to: to, by: stepValue)) : []
        }
        switch base {
        case .array(let items):
            return .array(try indices(count: items.count).map { items[$0] })
        case .string(let string):
            let scalars = Array(string.unicodeScalars)
            var out = String.UnicodeScalarView()
            for index in try indices(count: scalars.count) { out.append(scalars[index]) }
            return .string(String(out))
        case .undefined(let name):
            throw undefinedError(name)
        default:
            throw TemplateError(.render, "'\(base.typeName)' object is not subscriptable (slicing)")
        }
    }
}
