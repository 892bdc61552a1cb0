/// Builds the syntax tree from tokens, following jinja2's grammar and operator precedence
/// (`parser.py`): conditional < or < and < not < comparison < `+ -` < `~` < `* / // %` < `**` < unary
/// < filters and tests < primary with `.`, `[]` and calls.
///
/// Every tag, filter and test is checked here, so an unsupported construct is refused at load with its line.
struct Parser {
    private let tokens: [Token]
    private var index = 0
    private var depth = 0
    private let maximumDepth: Int

    static func parse(_ tokens: [Token], maximumDepth: Int) throws -> [Node] {
        var parser = Parser(tokens: tokens, maximumDepth: maximumDepth)
        let (nodes, end) = try parser.parseBody(until: [])
        if let end {
            throw TemplateError(.syntax, "unexpected '\(end.name)' with no open block", line: end.line)
        }
        return nodes
    }

    private init(tokens: [Token], maximumDepth: Int) {
        self.tokens = tokens
        self.maximumDepth = maximumDepth
    }

    // MARK: Token helpers

    private var current: Token? { index < tokens.count ? tokens[index] : nil }
    private var line: Int { current?.line ?? tokens.last?.line ?? 1 }

    private mutating func advance() -> Token? {
        defer { index += 1 }
        return current
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(op)? = current?.kind { return true }
        return false
    }

    private func isName(_ name: String) -> Bool {
        if case .name(name)? = current?.kind { return true }
        return false
    }

    private mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw TemplateError(.syntax, "expected '\(op)', found \(describe(current))", line: line) }
        index += 1
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name)? = current?.kind else {
            throw TemplateError(.syntax, "expected a name, found \(describe(current))", line: line)
        }
        index += 1
        return name
    }

    private mutating func expectKeyword(_ keyword: String) throws {
        guard isName(keyword) else {
            throw TemplateError(.syntax, "expected '\(keyword)', found \(describe(current))", line: line)
        }
        index += 1
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd? = current?.kind else {
            throw TemplateError(.syntax, "expected the end of the tag '%}', found \(describe(current))", line: line)
        }
        index += 1
    }

    private func describe(_ token: Token?) -> String {
        guard let token else { return "the end of the template" }
        switch token.kind {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let name): return "'\(name)'"
        case .string(let string): return "string '\(string.prefix(20))'"
        case .integer(let value): return "\(value)"
        case .float(let value): return "\(value)"
        case .op(let op): return "'\(op)'"
        }
    }

    /// One more level of a left-leaning chain (`a + b + c`, `x|f|g`, `a.b.c`): the tree gets deeper even
    /// though the parser loops, and both evaluating and freeing it recurse, so chains count against the depth too.
    private mutating func deepen(_ levels: inout Int) throws {
        levels += 1
        try nest()
    }

    private mutating func nest() throws {
        depth += 1
        if depth > maximumDepth {
            throw TemplateError(.limit, "nesting deeper than \(maximumDepth) levels", line: line)
        }
    }

    // MARK: Statements

    private static let unsupportedTags: Set<String> = [
        "macro", "call", "filter", "include", "import", "from", "extends", "block", "with", "raw", "autoescape",
        "do", "trans", "endmacro", "endcall", "endfilter", "endblock", "endwith", "endraw", "endautoescape",
    ]

    /// Parses nodes until a block tag named in `ends`; returns the nodes and that tag's name (nil at the end).
    private mutating func parseBody(until ends: Set<String>) throws -> ([Node], (name: String, line: Int)?) {
        try nest()
        defer { depth -= 1 }
        var nodes: [Node] = []
        while let token = current {
            switch token.kind {
            case .text(let text):
                index += 1
                nodes.append(.text(text))
            case .variableBegin:
                index += 1
                let expression = try parseExpression()
                guard case .variableEnd? = current?.kind else {
                    throw TemplateError(.syntax, "expected '}}', found \(describe(current))", line: line)
                }
                index += 1
                nodes.append(.output(expression))
            case .blockBegin:
                index += 1
                let tagLine = line
                let tag = try expectName()
                if ends.contains(tag) { return (nodes, (tag, tagLine)) }
                nodes.append(try parseStatement(tag, line: tagLine))
            default:
                throw TemplateError(.syntax, "unexpected \(describe(token))", line: token.line)
            }
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ tag: String, line tagLine: Int) throws -> Node {
        switch tag {
        case "if": return try parseIf()
        case "for": return try parseFor(line: tagLine)
        case "set": return try parseSet(line: tagLine)
        case "break":
            try expectBlockEnd()
            return .breakLoop(line: tagLine)
        case "continue":
            try expectBlockEnd()
            return .continueLoop(line: tagLine)
        case "generation":
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["endgeneration"])
            guard end != nil else { throw unclosed("generation", line: tagLine) }
            try expectBlockEnd()
            return .generation(body)
        default:
            if Parser.unsupportedTags.contains(tag) {
                throw TemplateError(.unsupported, "the '\(tag)' tag is not supported", line: tagLine)
            }
            throw TemplateError(.syntax, "unknown tag '\(tag)'", line: tagLine)
        }
    }

    private func unclosed(_ tag: String, line: Int) -> TemplateError {
        TemplateError(.syntax, "'\(tag)' is never closed with 'end\(tag)'", line: line)
    }

    private mutating func parseIf() throws -> Node {
        let ifLine = line
        var branches: [(Expression, [Node])] = []
        // jinja2 parses if/elif conditions without conditional expressions (`parse_tuple(with_condexpr=False)`).
        var condition = try parseExpression(allowConditional: false)
        try expectBlockEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            guard let end else { throw unclosed("if", line: ifLine) }
            switch end.name {
            case "elif":
                condition = try parseExpression(allowConditional: false)
                try expectBlockEnd()
            case "else":
                try expectBlockEnd()
                let (otherwise, close) = try parseBody(until: ["endif"])
                guard close != nil else { throw unclosed("if", line: ifLine) }
                try expectBlockEnd()
                return .conditional(branches: branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .conditional(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor(line forLine: Int) throws -> Node {
        var targets = [try expectName()]
        while isOp(",") {
            index += 1
            targets.append(try expectName())
        }
        try expectKeyword("in")
        let iterable = try parseExpression(allowConditional: false)
        var filter: Expression? = nil
        if isName("if") {
            index += 1
            filter = try parseExpression(allowConditional: false)
        }
        if isName("recursive") {
            throw TemplateError(.unsupported, "recursive for loops are not supported", line: forLine)
        }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        guard let end else { throw unclosed("for", line: forLine) }
        var otherwise: [Node] = []
        if end.name == "else" {
            try expectBlockEnd()
            let (elseBody, close) = try parseBody(until: ["endfor"])
            guard close != nil else { throw unclosed("for", line: forLine) }
            otherwise = elseBody
        }
        try expectBlockEnd()
        return .loop(Loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise,
                          line: forLine))
    }

    private mutating func parseSet(line setLine: Int) throws -> Node {
        let first = try expectName()
        var target = AssignTarget.name(first)
        if isOp(".") {
            index += 1
            target = .attribute(first, try expectName())
        } else if isOp(",") {
            var names = [first]
            while isOp(",") {
                index += 1
                names.append(try expectName())
            }
            target = .names(names)
        }
        if case .blockEnd? = current?.kind, case .name(let name) = target {
            index += 1
            let (body, end) = try parseBody(until: ["endset"])
            guard end != nil else { throw unclosed("set", line: setLine) }
            try expectBlockEnd()
            return .assignBlock(name: name, body: body, line: setLine)
        }
        try expectOp("=")
        let value = try parseTuple()
        try expectBlockEnd()
        return .assign(target: target, value: value, line: setLine)
    }

    // MARK: Expressions

    /// An expression, or a bare tuple `a, b` (as a list) where jinja2 accepts one (`set`).
    private mutating func parseTuple() throws -> Expression {
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            index += 1
            items.append(try parseExpression())
        }
        return Expression(kind: .list(items), line: first.line)
    }

    private mutating func parseExpression(allowConditional: Bool = true) throws -> Expression {
        try nest()
        defer { depth -= 1 }
        let body = try parseOr()
        guard allowConditional, isName("if") else { return body }
        index += 1
        let condition = try parseOr()
        var otherwise: Expression? = nil
        if isName("else") {
            index += 1
            otherwise = try parseExpression()
        }
        return Expression(kind: .conditional(condition: condition, then: body, otherwise: otherwise), line: body.line)
    }

    private mutating func parseOr() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parseAnd()
        while isName("or") {
            try deepen(&levels)
            index += 1
            left = Expression(kind: .or(left, try parseAnd()), line: left.line)
        }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parseNot()
        while isName("and") {
            try deepen(&levels)
            index += 1
            left = Expression(kind: .and(left, try parseNot()), line: left.line)
        }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        if isName("not") {
            let notLine = line
            index += 1
            try nest()
            defer { depth -= 1 }
            return Expression(kind: .not(try parseNot()), line: notLine)
        }
        return try parseCompare()
    }

    private static let comparisons: Set<String> = ["==", "!=", "<", ">", "<=", ">="]

    private mutating func parseCompare() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        let first = try parseMath1()
        var pairs: [(String, Expression)] = []
        while true {
            if case .op(let op)? = current?.kind, Parser.comparisons.contains(op) {
                index += 1
                try deepen(&levels)
                pairs.append((op, try parseMath1()))
            } else if isName("in") {
                index += 1
                try deepen(&levels)
                pairs.append(("in", try parseMath1()))
            } else if isName("not"), index + 1 < tokens.count, case .name("in") = tokens[index + 1].kind {
                index += 2
                try deepen(&levels)
                pairs.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        // a < b < c means (a < b) and (b < c), as in Python.
        guard !pairs.isEmpty else { return first }
        var left = first
        var result: Expression? = nil
        for (op, right) in pairs {
            let comparison = Expression(kind: .binary(op, left, right), line: first.line)
            result = result.map { Expression(kind: .and($0, comparison), line: first.line) } ?? comparison
            left = right
        }
        return result!
    }

    private mutating func parseMath1() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parseConcat()
        while isOp("+") || isOp("-") {
            try deepen(&levels)
            guard case .op(let op)? = advance()?.kind else { break }
            left = Expression(kind: .binary(op, left, try parseConcat()), line: left.line)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parseMath2()
        while isOp("~") {
            try deepen(&levels)
            index += 1
            left = Expression(kind: .binary("~", left, try parseMath2()), line: left.line)
        }
        return left
    }

    private mutating func parseMath2() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parsePow()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") {
            try deepen(&levels)
            guard case .op(let op)? = advance()?.kind else { break }
            left = Expression(kind: .binary(op, left, try parsePow()), line: left.line)
        }
        return left
    }

    private mutating func parsePow() throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var left = try parseUnary()
        while isOp("**") {
            try deepen(&levels)
            index += 1
            left = Expression(kind: .binary("**", left, try parseUnary()), line: left.line)
        }
        return left
    }

    /// jinja2's `parse_unary`: `-x|f` is `(-x)|f`; the operand of `-` takes no filters of its own.
    private mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
        try nest()
        defer { depth -= 1 }
        var node: Expression
        if isOp("-") || isOp("+") {
            let unaryLine = line
            guard case .op(let op)? = advance()?.kind else { throw TemplateError(.syntax, "expected an operator") }
            node = Expression(kind: .unary(op, try parseUnary(withFilters: false)), line: unaryLine)
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        return withFilters ? try parseFiltersAndTests(node) : node
    }

    private mutating func parsePrimary() throws -> Expression {
        guard let token = advance() else {
            throw TemplateError(.syntax, "expected an expression, found the end of the template", line: line)
        }
        let at = token.line
        switch token.kind {
        case .name(let name):
            switch name {
            case "true", "True": return Expression(kind: .literal(.bool(true)), line: at)
            case "false", "False": return Expression(kind: .literal(.bool(false)), line: at)
            case "none", "None": return Expression(kind: .literal(.none), line: at)
            default: return Expression(kind: .name(name), line: at)
            }
        case .string(var string):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let next)? = current?.kind {
                string += next
                index += 1
            }
            return Expression(kind: .literal(.string(string)), line: at)
        case .integer(let value): return Expression(kind: .literal(.int(value)), line: at)
        case .float(let value): return Expression(kind: .literal(.double(value)), line: at)
        case .op("("):
            if isOp(")") {
                index += 1
                return Expression(kind: .list([]), line: at)
            }
            let inner = try parseExpression()
            if isOp(",") {
                var items = [inner]
                while isOp(",") {
                    index += 1
                    if isOp(")") { break }
                    items.append(try parseExpression())
                }
                try expectOp(")")
                return Expression(kind: .list(items), line: at)
            }
            try expectOp(")")
            return inner
        case .op("["):
            var items: [Expression] = []
            while !isOp("]") {
                items.append(try parseExpression())
                if !isOp(",") { break }
                index += 1
            }
            try expectOp("]")
            return Expression(kind: .list(items), line: at)
        case .op("{"):
            var pairs: [(Expression, Expression)] = []
            while !isOp("}") {
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
                if !isOp(",") { break }
                index += 1
            }
            try expectOp("}")
            return Expression(kind: .dict(pairs), line: at)
        default:
            throw TemplateError(.syntax, "unexpected \(describe(token))", line: at)
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var node = base
        while true {
            try deepen(&levels)
            if isOp(".") {
                index += 1
                guard let token = advance() else { throw TemplateError(.syntax, "expected an attribute", line: line) }
                switch token.kind {
                case .name(let name): node = Expression(kind: .attribute(node, name), line: token.line)
                case .integer(let value):
                    node = Expression(kind: .item(node, Expression(kind: .literal(.int(value)), line: token.line)),
                                      line: token.line)
                default: throw TemplateError(.syntax, "expected an attribute name after '.'", line: token.line)
                }
            } else if isOp("[") {
                let at = line
                index += 1
                node = try parseSubscript(node, line: at)
            } else if isOp("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: Expression, line at: Int) throws -> Expression {
        var parts: [Expression?] = [nil]
        var isSlice = false
        while !isOp("]") {
            if isOp(":") {
                index += 1
                isSlice = true
                parts.append(nil)
                if parts.count > 3 { throw TemplateError(.syntax, "too many ':' in a slice", line: at) }
            } else {
                guard parts[parts.count - 1] == nil else {
                    throw TemplateError(.syntax, "expected ']' or ':' in a subscript", line: line)
                }
                parts[parts.count - 1] = try parseExpression()
            }
        }
        try expectOp("]")
        if isSlice {
            while parts.count < 3 { parts.append(nil) }
            return Expression(kind: .slice(base, start: parts[0], stop: parts[1], step: parts[2]), line: at)
        }
        guard let key = parts[0] else { throw TemplateError(.syntax, "empty subscript '[]'", line: at) }
        return Expression(kind: .item(base, key), line: at)
    }

    private mutating func parseArguments() throws -> ([Expression], [(String, Expression)]) {
        try expectOp("(")
        var arguments: [Expression] = []
        var keywords: [(String, Expression)] = []
        while !isOp(")") {
            if case .name(let name)? = current?.kind, index + 1 < tokens.count, case .op("=") = tokens[index + 1].kind {
                index += 2
                keywords.append((name, try parseExpression()))
            } else {
                if isOp("*") || isOp("**") {
                    throw TemplateError(.unsupported, "'*args' / '**kwargs' in calls are not supported", line: line)
                }
                if !keywords.isEmpty {
                    throw TemplateError(.syntax, "positional argument after a keyword argument", line: line)
                }
                arguments.append(try parseExpression())
            }
            if !isOp(",") { break }
            index += 1
        }
        try expectOp(")")
        return (arguments, keywords)
    }

    private mutating func parseCall(_ callee: Expression) throws -> Expression {
        let at = line
        let (arguments, keywords) = try parseArguments()
        return Expression(kind: .call(callee, arguments: arguments, keywords: keywords), line: at)
    }

    private mutating func parseFiltersAndTests(_ base: Expression) throws -> Expression {
        var levels = 0
        defer { depth -= levels }
        var node = base
        while true {
            try deepen(&levels)
            if isOp("|") {
                index += 1
                let at = line
                let name = try expectName()
                guard Filters.names.contains(name) else {
                    throw TemplateError(.unsupported, "the '\(name)' filter is not supported", line: at)
                }
                var arguments: [Expression] = []
                var keywords: [(String, Expression)] = []
                if isOp("(") { (arguments, keywords) = try parseArguments() }
                node = Expression(kind: .filter(node, name: name, arguments: arguments, keywords: keywords), line: at)
            } else if isName("is") {
                index += 1
                let at = line
                var negated = false
                if isName("not") {
                    index += 1
                    negated = true
                }
                let name = try expectName()
                guard Tests.names.contains(name) else {
                    throw TemplateError(.unsupported, "the '\(name)' test is not supported", line: at)
                }
                var arguments: [Expression] = []
                if isOp("(") {
                    (arguments, _) = try parseArguments()
                } else if let token = current, startsTestArgument(token) {
                    // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
                    if case .name("is") = token.kind {
                        throw TemplateError(.syntax, "you cannot chain multiple tests with 'is'", line: token.line)
                    }
                    arguments = [try parsePostfix(try parsePrimary())]
                }
                node = Expression(kind: .test(node, name: name, arguments: arguments, negated: negated), line: at)
            } else {
                return node
            }
        }
    }

    private func startsTestArgument(_ token: Token) -> Bool {
        switch token.kind {
        case .string, .integer, .float: return true
        case .name(let name): return !["and", "or", "else"].contains(name)  // jinja2's exact exclusions
        case .op(let op): return op == "[" || op == "{"
        default: return false
        }
    }
}
