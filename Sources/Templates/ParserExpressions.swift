/// Expressions, by jinja2's precedence (lowest first): conditional, `or`, `and`, `not`, comparisons and `in`,
/// `+ -`, `~`, `* / // %`, `**`, unary `- +`, then filters and tests, then primaries with `.`, `[]` and calls.
/// Reference: jinja2 `parser.py` (`parse_expression` ... `parse_primary`, `parse_filter_expr`).
extension Parser {
    /// An expression, or a bare tuple `a, b` (as a list) where jinja2 accepts one (`set`).
    mutating func parseTuple() throws -> Expression {
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            index += 1
            items.append(try parseExpression())
        }
        return Expression(kind: .list(items), line: first.line)
    }

    mutating func parseExpression(allowConditional: Bool = true) throws -> Expression {
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

    mutating func parseOr() throws -> Expression {
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

    mutating func parseAnd() throws -> Expression {
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

    mutating func parseNot() throws -> Expression {
        if isName("not") {
            let notLine = line
            index += 1
            try nest()
            defer { depth -= 1 }
            return Expression(kind: .not(try parseNot()), line: notLine)
        }
        return try parseCompare()
    }

    static let comparisons: Set<String> = ["==", "!=", "<", ">", "<=", ">="]

    mutating func parseCompare() throws -> Expression {
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

    mutating func parseMath1() throws -> Expression {
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

    mutating func parseConcat() throws -> Expression {
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

    mutating func parseMath2() throws -> Expression {
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

    mutating func parsePow() throws -> Expression {
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
    mutating func parseUnary(withFilters: Bool = true) throws -> Expression {
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

    mutating func parsePrimary() throws -> Expression {
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

    mutating func parsePostfix(_ base: Expression) throws -> Expression {
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

    mutating func parseSubscript(_ base: Expression, line at: Int) throws -> Expression {
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

    mutating func parseArguments() throws -> ([Expression], [(String, Expression)]) {
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

    mutating func parseCall(_ callee: Expression) throws -> Expression {
        let at = line
        let (arguments, keywords) = try parseArguments()
        return Expression(kind: .call(callee, arguments: arguments, keywords: keywords), line: at)
    }

    mutating func parseFiltersAndTests(_ base: Expression) throws -> Expression {
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

    func startsTestArgument(_ token: Token) -> Bool {
        switch token.kind {
        case .string, .integer, .float: return true
        case .name(let name): return !["and", "or", "else"].contains(name)  // jinja2's exact exclusions
        case .op(let op): return op == "[" || op == "{"
        default: return false
        }
    }
}
