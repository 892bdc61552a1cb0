/// The template's syntax tree: statements (`Node`) holding expressions (`Expression`), each with its line.
struct Expression {
    indirect enum Kind {
        case literal(Value)
        case name(String)
        case list([Expression])
        case dict([(Expression, Expression)])
        /// `a.b`: attribute first, then item (jinja2 `getattr`).
        case attribute(Expression, String)
        /// `a[b]`: item first, then attribute (jinja2 `getitem`).
        case item(Expression, Expression)
        case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
        case call(Expression, arguments: [Expression], keywords: [(String, Expression)])
        case filter(Expression, name: String, arguments: [Expression], keywords: [(String, Expression)])
        case test(Expression, name: String, arguments: [Expression], negated: Bool)
        case unary(String, Expression)
        case binary(String, Expression, Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        case not(Expression)
        /// `a if condition else b` (a missing else is undefined).
        case conditional(condition: Expression, then: Expression, otherwise: Expression?)
    }
    let kind: Kind
    let line: Int
}

indirect enum Node {
    case text(String)
    case output(Expression)
    case conditional(branches: [(Expression, [Node])], otherwise: [Node])
    case loop(Loop)
    case assign(target: AssignTarget, value: Expression, line: Int)
    case assignBlock(name: String, body: [Node], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// transformers' `{% generation %}` block: renders its body (the assistant-mask tracking is not needed here).
    case generation([Node])
}

struct Loop {
    let targets: [String]
    let iterable: Expression
    let filter: Expression?
    let body: [Node]
    let otherwise: [Node]
    let line: Int
}

enum AssignTarget {
    case name(String)
    case names([String])
    /// `{% set ns.attribute = value %}`: only namespaces accept it, as in jinja2.
    case attribute(String, String)
}
