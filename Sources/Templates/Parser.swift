/// Builds the syntax tree from tokens, following jinja2's grammar and operator precedence
/// (`parser.py`): conditional < or < and < not < comparison < `+ -` < `~` < `* / // %` < `**` < unary
/// < filters and tests < primary with `.`, `[]` and calls.
///
/// Every tag, filter and test is checked here, so an unsupported construct is refused at load with its line.
struct Parser {
    let tokens: [Token]
    var index = 0
    var depth = 0
    let maximumDepth: Int

    static func parse(_ tokens: [Token], maximumDepth: Int) throws -> [Node] {
        var parser = Parser(tokens: tokens, maximumDepth: maximumDepth)
        let (nodes, end) = try parser.parseBody(until: [])
        if let end {
            throw TemplateError(.syntax, "unexpected '\(end.name)' with no open block", line: end.line)
        }
        return nodes
    }

    init(tokens: [Token], maximumDepth: Int) {
        self.tokens = tokens
        self.maximumDepth = maximumDepth
    }

    // MARK: Token helpers

    var current: Token? { index < tokens.count ? tokens[index] : nil }
    var line: Int { current?.line ?? tokens.last?.line ?? 1 }

    mutating func advance() -> Token? {
        defer { index += 1 }
        return current
    }

    func isOp(_ op: String) -> Bool {
        if case .op(op)? = current?.kind { return true }
        return false
    }

    func isName(_ name: String) -> Bool {
        if case .name(name)? = current?.kind { return true }
        return false
    }

    mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw TemplateError(.syntax, "expected '\(op)', found \(describe(current))", line: line) }
        index += 1
    }

    mutating func expectName() throws -> String {
        guard case .name(let name)? = current?.kind else {
            throw TemplateError(.syntax, "expected a name, found \(describe(current))", line: line)
        }
        index += 1
        return name
    }

    mutating func expectKeyword(_ keyword: String) throws {
        guard isName(keyword) else {
            throw TemplateError(.syntax, "expected '\(keyword)', found \(describe(current))", line: line)
        }
        index += 1
    }

    mutating func expectBlockEnd() throws {
        guard case .blockEnd? = current?.kind else {
            throw TemplateError(.syntax, "expected the end of the tag '%}', found \(describe(current))", line: line)
        }
        index += 1
    }

    func describe(_ token: Token?) -> String {
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
    mutating func deepen(_ levels: inout Int) throws {
        levels += 1
        try nest()
    }

    mutating func nest() throws {
        depth += 1
        if depth > maximumDepth {
            throw TemplateError(.limit, "nesting deeper than \(maximumDepth) levels", line: line)
        }
    }

    // MARK: Statements

    static let unsupportedTags: Set<String> = [
        "macro", "call", "filter", "include", "import", "from", "extends", "block", "with", "raw", "autoescape",
        "do", "trans", "endmacro", "endcall", "endfilter", "endblock", "endwith", "endraw", "endautoescape",
    ]

    /// Parses nodes until a block tag named in `ends`; returns the nodes and that tag's name (nil at the end).
    mutating func parseBody(until ends: Set<String>) throws -> ([Node], (name: String, line: Int)?) {
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

    mutating func parseStatement(_ tag: String, line tagLine: Int) throws -> Node {
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

    func unclosed(_ tag: String, line: Int) -> TemplateError {
        TemplateError(.syntax, "'\(tag)' is never closed with 'end\(tag)'", line: line)
    }

    mutating func parseIf() throws -> Node {
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

    mutating func parseFor(line forLine: Int) throws -> Node {
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

    mutating func parseSet(line setLine: Int) throws -> Node {
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
}
