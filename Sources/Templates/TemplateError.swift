/// The one error type of the Templates module: what went wrong, in which template, and on which line.
///
/// Parse-time errors (`syntax`, `unsupported`) come from `ChatTemplate(source:)`, so a template that uses
/// something this interpreter does not implement is refused when it is loaded, never half-rendered.
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The template text is not valid Jinja (unclosed tag, unexpected token).
        case syntax
        /// Valid Jinja that this interpreter does not implement (a tag, filter, test or operator).
        case unsupported
        /// A value had the wrong type for an operation while rendering, or a name was undefined where a value was needed.
        case render
        /// The template called `raise_exception(message)`: the conversation is one the template refuses.
        case raised
        /// A bound (output size, loop iterations, nesting depth) was reached.
        case limit
        /// `tokenizer_config.json` could not be read or has no usable `chat_template`.
        case configuration
    }

    public let kind: Kind
    public let message: String
    /// 1-based line in the template source, when the error belongs to one place in it.
    public let line: Int?
    /// The template's name (`ChatTemplate.name`).
    public let template: String

    public init(_ kind: Kind, _ message: String, line: Int? = nil, template: String = "") {
        self.kind = kind
        self.message = message
        self.line = line
        self.template = template
    }

    public var description: String {
        var text = "chat template"
        if !template.isEmpty { text += " '\(template)'" }
        if let line { text += " line \(line)" }
        return text + ": " + message
    }

    func named(_ name: String) -> TemplateError {
        TemplateError(kind, message, line: line, template: name)
    }

    func at(line newLine: Int) -> TemplateError {
        line == nil ? TemplateError(kind, message, line: newLine, template: template) : self
    }
}
