/// Splits template text into tokens the way jinja2's lexer does in transformers' environment
/// (`trim_blocks=True, lstrip_blocks=True`, `keep_trailing_newline=False`).
///
/// Whitespace control: `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all
/// whitespace after it. `trim_blocks` removes the first newline after a block or comment tag (`+%}` keeps it);
/// `lstrip_blocks` removes spaces and tabs between the start of a line and a block or comment tag (`{%+` keeps
/// them). Reference: jinja2 `lexer.py`, `Lexer.tokeniter`.
struct Token: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
    }
    let kind: Kind
    let line: Int
}

struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var lineStarting = true
    private(set) var tokens: [Token] = []

    /// Tokenizes `source`; throws `TemplateError.syntax` naming the line of an unclosed tag, string or comment.
    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(source: String) {
        // jinja2 normalizes every newline sequence to "\n" and drops one trailing newline.
        var normalized: [Unicode.Scalar] = []
        normalized.reserveCapacity(source.unicodeScalars.count)
        var previousWasReturn = false
        for scalar in source.unicodeScalars {
            if scalar == "\r" {
                normalized.append("\n")
                previousWasReturn = true
                continue
            }
            if scalar == "\n" && previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = false
            normalized.append(scalar)
        }
        if normalized.last == "\n" { normalized.removeLast() }
        scalars = normalized
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let index = position + offset
        return index < scalars.count ? scalars[index] : nil
    }

    private func matches(_ text: String, at index: Int) -> Bool {
        var i = index
        for scalar in text.unicodeScalars {
            guard i < scalars.count, scalars[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    private mutating func run() throws {
        while position < scalars.count {
            // Find the next tag start.
            var start = position
            var tagKind: Unicode.Scalar? = nil
            while start + 1 < scalars.count {
                if scalars[start] == "{", ["{", "%", "#"].contains(scalars[start + 1]) {
                    tagKind = scalars[start + 1]
                    break
                }
                start += 1
            }
            guard let kind = tagKind else {
                emitText(Array(scalars[position...]))
                position = scalars.count
                break
            }
            var text = Array(scalars[position..<start])
            let modifier = start + 2 < scalars.count ? scalars[start + 2] : nil
            if modifier == "-" {
                while let last = text.last, last.isPythonWhitespace { text.removeLast() }
            } else if modifier != "+" && kind != "{" {
                // lstrip_blocks: only spaces/tabs (any whitespace but newline) since the start of the line.
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if lineStart > 0 || lineStarting {
                    let tail = text[lineStart...]
                    if !tail.isEmpty && tail.allSatisfy({ $0.isPythonWhitespace }) {
                        text.removeSubrange(lineStart...)
                    }
                }
            }
            emitText(text)
            line += scalars[position..<start].filter { $0 == "\n" }.count
            position = start + 2
            if modifier == "-" || modifier == "+" { position += 1 }
            switch kind {
            case "#": try lexComment(startLine: line)
            case "{":
                tokens.append(Token(kind: .variableBegin, line: line))
                try lexExpression(block: false)
            default:
                tokens.append(Token(kind: .blockBegin, line: line))
                try lexExpression(block: true)
            }
        }
    }

    private mutating func emitText(_ text: [Unicode.Scalar]) {
        guard !text.isEmpty else { return }
        var string = String.UnicodeScalarView()
        string.append(contentsOf: text)
        tokens.append(Token(kind: .text(String(string)), line: line))
    }

    /// After a closing tag: `-` strips following whitespace; trim_blocks eats one newline after blocks and comments.
    private mutating func finishTag(stripAfter: Bool, keep: Bool, block: Bool) {
        if stripAfter {
            while let scalar = peek(), scalar.isPythonWhitespace {
                if scalar == "\n" { line += 1 }
                position += 1
                lineStarting = scalar == "\n"
            }
        } else if block && !keep && peek() == "\n" {
            position += 1
            line += 1
            lineStarting = true
        }
    }

    private mutating func lexComment(startLine: Int) throws {
        while position + 1 < scalars.count {
            if scalars[position] == "#" && scalars[position + 1] == "}" {
                let before = position > 0 ? scalars[position - 1] : nil
                position += 2
                lineStarting = false
                finishTag(stripAfter: before == "-", keep: before == "+", block: true)
                return
            }
            if scalars[position] == "\n" { line += 1 }
            position += 1
        }
        throw TemplateError(.syntax, "comment '{#' is never closed with '#}'", line: startLine)
    }

    private static let operators2: Set<String> = ["==", "!=", "<=", ">=", "//", "**"]
    private static let operators1: Set<Unicode.Scalar> = ["+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[",
                                                          "]", "{", "}", ",", ".", ":", "|"]

    private mutating func lexExpression(block: Bool) throws {
        let startLine = line
        let close: Unicode.Scalar = block ? "%" : "}"
        var brackets: [Unicode.Scalar] = []
        while true {
            while let scalar = peek(), scalar.isPythonWhitespace {
                if scalar == "\n" { line += 1 }
                position += 1
            }
            guard let scalar = peek() else {
                throw TemplateError(.syntax, "tag opened with '\(block ? "{%" : "{{")' is never closed", line: startLine)
            }
            if brackets.isEmpty {
                // End of tag: `}}` / `%}`, optionally with `-` or `+` before it.
                var modifier: Unicode.Scalar? = nil
                var at = position
                if scalar == "-" || scalar == "+" {
                    modifier = scalar
                    at += 1
                }
                if at + 1 < scalars.count && scalars[at] == close && scalars[at + 1] == "}"
                    && !(modifier == "+" && !block) {
                    position = at + 2
                    lineStarting = false
                    tokens.append(Token(kind: block ? .blockEnd : .variableEnd, line: line))
                    finishTag(stripAfter: modifier == "-", keep: modifier == "+", block: block)
                    return
                }
            }
            if scalar == "'" || scalar == "\"" {
                tokens.append(Token(kind: .string(try lexString(quote: scalar)), line: line))
            } else if scalar.properties.numericType != nil && ("0"..."9").contains(scalar) {
                tokens.append(Token(kind: lexNumber(), line: line))
            } else if scalar == "_" || scalar.properties.isAlphabetic {
                var name = String.UnicodeScalarView()
                while let next = peek(), next == "_" || next.properties.isAlphabetic || ("0"..."9").contains(next) {
                    name.append(next)
                    position += 1
                }
                tokens.append(Token(kind: .name(String(name)), line: line))
            } else {
                var op: String? = nil
                if let next = peek(1) {
                    let two = String(String.UnicodeScalarView([scalar, next]))
                    if Lexer.operators2.contains(two) { op = two }
                }
                if op == nil && Lexer.operators1.contains(scalar) { op = String(Character(scalar)) }
                guard let op else {
                    throw TemplateError(.syntax, "unexpected character '\(scalar)' in a tag", line: line)
                }
                position += op.unicodeScalars.count
                switch op {
                case "(": brackets.append(")")
                case "[": brackets.append("]")
                case "{": brackets.append("}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else {
                        throw TemplateError(.syntax, "unexpected '\(op)'", line: line)
                    }
                    if String(Character(expected)) != op {
                        throw TemplateError(.syntax, "unexpected '\(op)', expected '\(expected)'", line: line)
                    }
                default: break
                }
                tokens.append(Token(kind: .op(op), line: line))
            }
        }
    }

    private mutating func lexNumber() -> Token.Kind {
        var text = ""
        var isFloat = false
        func digits() {
            while let d = peek(), ("0"..."9").contains(d) || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
                position += 1
            }
        }
        digits()
        if peek() == ".", let next = peek(1), ("0"..."9").contains(next) {
            isFloat = true
            text += "."
            position += 1
            digits()
        }
        if let e = peek(), e == "e" || e == "E" {
            var look = 1
            if let sign = peek(1), sign == "+" || sign == "-" { look = 2 }
            if let d = peek(look), ("0"..."9").contains(d) {
                isFloat = true
                text += "e"
                if look == 2 { text.unicodeScalars.append(peek(1)!) }
                position += look
                digits()
            }
        }
        if !isFloat, let value = Int(text) { return .integer(value) }
        return .float(Double(text) ?? .infinity)
    }

    /// A quoted string with Python's `unicode-escape` sequences (what jinja2 applies to string literals).
    private mutating func lexString(quote: Unicode.Scalar) throws -> String {
        let startLine = line
        position += 1
        var out = String.UnicodeScalarView()
        while let scalar = peek() {
            position += 1
            if scalar == quote { return String(out) }
            if scalar == "\n" { line += 1 }
            guard scalar == "\\" else {
                out.append(scalar)
                continue
            }
            guard let escape = peek() else { break }
            position += 1
            switch escape {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": line += 1  // line continuation
            case "x", "u", "U":
                let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
                var hex = ""
                for _ in 0..<count {
                    guard let h = peek(), h.properties.isASCIIHexDigit else {
                        throw TemplateError(.syntax, "bad \\\(escape) escape in a string literal", line: line)
                    }
                    hex.unicodeScalars.append(h)
                    position += 1
                }
                guard let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) else {
                    throw TemplateError(.syntax, "bad \\\(escape) escape in a string literal", line: line)
                }
                out.append(decoded)
            case "0"..."7":
                var value = escape.value - 48
                var count = 1
                while count < 3, let o = peek(), ("0"..."7").contains(o) {
                    value = value * 8 + (o.value - 48)
                    position += 1
                    count += 1
                }
                out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default:
                out.append("\\")
                out.append(escape)
            }
        }
        throw TemplateError(.syntax, "string literal is never closed", line: startLine)
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace()` (what `strip()`, `split()` and jinja2's `\s` whitespace control use).
    var isPythonWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
