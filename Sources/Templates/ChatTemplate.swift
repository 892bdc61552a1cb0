import Foundation

/// A Hugging Face chat template (the Jinja `chat_template` of `tokenizer_config.json`), parsed once and
/// rendered exactly as transformers' `apply_chat_template(..., tokenize=False)` renders it.
///
/// The template sees what transformers passes: `messages` (each `{role, content}`), `add_generation_prompt`,
/// `bos_token` / `eos_token` (when given), `tools` and `documents` as none, and the globals
/// `raise_exception(message)`, `namespace(...)`, `strftime_now(format)` (of `date`), `range` and `dict`.
/// Reference: transformers `utils/chat_template_utils.py` (`_cached_compile_jinja_template`,
/// `render_jinja_template`).
///
/// Parsing checks every tag, filter and test, so a template that needs something this interpreter does not
/// implement is refused here, with the construct and its line, rather than when a request arrives.
public struct ChatTemplate: @unchecked Sendable {
    // @unchecked: the syntax tree is immutable after parsing, and its literals are strings, numbers,
    // lists and dicts only; namespaces and functions (the reference-typed values) exist only inside one render.

    /// A name for error messages (the model or file the template came from).
    public let name: String
    /// The Jinja source.
    public let source: String
    /// True for `ChatTemplate.plain`, used when a model ships no template.
    public let isFallback: Bool
    public let limits: TemplateLimits
    private let nodes: [Node]

    /// Parses `source`; throws `TemplateError` (`.syntax`, `.unsupported`, `.limit`) naming the line.
    public init(source: String, name: String = "chat_template", limits: TemplateLimits = TemplateLimits()) throws {
        try self.init(source: source, name: name, limits: limits, isFallback: false)
    }

    private init(source: String, name: String, limits: TemplateLimits, isFallback: Bool) throws {
        self.name = name
        self.source = source
        self.limits = limits
        self.isFallback = isFallback
        do {
            guard source.unicodeScalars.count <= limits.maximumSourceLength else {
                throw TemplateError(.limit, "template source longer than \(limits.maximumSourceLength) characters")
            }
            nodes = try Parser.parse(try Lexer.tokenize(source), maximumDepth: limits.maximumDepth)
        } catch let error as TemplateError {
            throw error.named(name)
        }
    }

    /// Reads `chat_template` from a `tokenizer_config.json`: a string, or a list of `{name, template}`
    /// from which the one named "default" is used. Throws `.configuration` when the file has none.
    public init(tokenizerConfig url: URL, limits: TemplateLimits = TemplateLimits()) throws {
        let config = try TokenizerConfig(url: url)
        guard let template = config.chatTemplate else {
            throw TemplateError(.configuration, "\(url.path) has no chat_template", template: url.lastPathComponent)
        }
        try self.init(source: template, name: url.deletingLastPathComponent().lastPathComponent, limits: limits)
    }

    /// The template of a model directory's `tokenizer_config.json`, or `plain` when the model has none
    /// (no file, or no `chat_template` in it). A template that is present but unsupported is an error.
    public static func forModel(directory: URL, limits: TemplateLimits = TemplateLimits()) throws -> ChatTemplate {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path),
              try TokenizerConfig(url: url).chatTemplate != nil else { return plain }
        return try ChatTemplate(tokenizerConfig: url, limits: limits)
    }

    /// The fallback for models without a chat template (such as the embedded books-5m): BOS (when given),
    /// then each message as `Role: content` (role capitalized, content trimmed) followed by a blank line,
    /// then `Assistant:` when a generation prompt is asked for. For example:
    ///
    ///     System: Be brief.
    ///
    ///     User: Hello!
    ///
    ///     Assistant:
    public static let plainSource = """
        {{- bos_token -}}
        {%- for message in messages -%}
        {{ message.role | capitalize }}: {{ message.content | trim }}{{ "\\n\\n" }}
        {%- endfor -%}
        {%- if add_generation_prompt %}Assistant:{% endif -%}
        """

    public static let plain = try! ChatTemplate(source: plainSource, name: "plain", limits: TemplateLimits(), // safe: constant source, parsed by the tests
                                                isFallback: true)

    /// Renders the conversation. `bosToken` / `eosToken` are the tokenizer's (nil leaves them undefined, as
    /// for a tokenizer without one); `date` is what `strftime_now` reads (Llama 3.2 prints today's date).
    /// Throws `TemplateError`: `.raised` when the template calls `raise_exception`, `.render` for type
    /// errors, `.limit` when output, loop iterations or nesting exceed `limits`.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String? = nil,
                       eosToken: String? = nil, date: Date = Date()) throws -> String {
        var globals: [String: Value] = [
            "messages": .array(messages.map(\.value)),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "tools": .none,
            "documents": .none,
        ]
        if let bosToken { globals["bos_token"] = .string(bosToken) }
        if let eosToken { globals["eos_token"] = .string(eosToken) }
        for (key, value) in Globals.functions(date: date, limits: limits) { globals[key] = value }
        do {
            return try Renderer(globals: globals, limits: limits).render(nodes)
        } catch let error as TemplateError {
            throw error.named(name)
        }
    }
}

/// The parts of `tokenizer_config.json` a chat needs.
public struct TokenizerConfig: Sendable {
    public let chatTemplate: String?
    public let bosToken: String?
    public let eosToken: String?

    public init(url: URL) throws {
        let file = url.lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TemplateError(.configuration, "cannot read \(url.path): \(error.localizedDescription)", template: file)
        }
        try self.init(data: data, file: file)
    }

    public init(data: Data, file: String = "tokenizer_config.json") throws {
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw TemplateError(.configuration, "\(file) is not a JSON object", template: file)
        }
        switch json["chat_template"] {
        case nil, is NSNull:
            chatTemplate = nil
        case let string as String:
            chatTemplate = string
        case let list as [Any]:
            var named: [String: String] = [:]
            for entry in list {
                guard let entry = entry as? [String: Any], let name = entry["name"] as? String,
                      let template = entry["template"] as? String else {
                    throw TemplateError(.configuration, "chat_template list entries need string 'name' and 'template'",
                                        template: file)
                }
                named[name] = template
            }
            guard let template = named["default"] else {
                throw TemplateError(.configuration, "chat_template has no template named 'default' (found: "
                                    + named.keys.sorted().joined(separator: ", ") + ")", template: file)
            }
            chatTemplate = template
        default:
            throw TemplateError(.configuration, "chat_template must be a string or a list of {name, template}",
                                template: file)
        }
        func token(_ key: String) throws -> String? {
            switch json[key] {
            case nil, is NSNull: return nil
            case let string as String: return string
            case let added as [String: Any]:
                guard let content = added["content"] as? String else {
                    throw TemplateError(.configuration, "\(key) has no string 'content'", template: file)
                }
                return content
            default: throw TemplateError(.configuration, "\(key) must be a string or an added-token object", template: file)
            }
        }
        bosToken = try token("bos_token")
        eosToken = try token("eos_token")
    }
}

/// The global functions of transformers' chat template environment.
enum Globals {
    static func functions(date: Date, limits: TemplateLimits) -> [String: Value] {
        func function(_ name: String, _ body: @escaping ([Value], [(String, Value)]) throws -> Value) -> Value {
            .function(Value.Function(name: name, call: body))
        }
        return [
            "raise_exception": function("raise_exception") { arguments, _ in
                throw TemplateError(.raised, arguments.first?.pythonString ?? "raise_exception() called")
            },
            "namespace": function("namespace") { arguments, keywords in
                var attributes = Value.Dictionary()
                if case .dict(let initial)? = arguments.first {
                    for (key, value) in initial.pairs { attributes[key] = value }
                }
                for (key, value) in keywords {
                    guard !key.hasPrefix("_") else {
                        throw TemplateError(.render, "namespace attributes cannot start with '_' ('\(key)')")
                    }
                    attributes[key] = value
                }
                return .namespace(Value.Namespace(attributes))
            },
            "strftime_now": function("strftime_now") { arguments, _ in
                .string(try Strftime.format(try Methods.requiredString(arguments.first, "strftime_now() format"),
                                            date: date))
            },
            "dict": function("dict") { arguments, keywords in
                var dict = Value.Dictionary()
                if case .dict(let initial)? = arguments.first {
                    for (key, value) in initial.pairs { dict[key] = value }
                }
                for (key, value) in keywords { dict[key] = value }
                return .dict(dict)
            },
            "range": function("range") { arguments, _ in
                let bounds = arguments.compactMap(\.integer)
                guard bounds.count == arguments.count, (1...3).contains(bounds.count) else {
                    throw TemplateError(.render, "range() takes one to three integers")
                }
                let start = bounds.count > 1 ? bounds[0] : 0
                let stop = bounds.count > 1 ? bounds[1] : bounds[0]
                let step = bounds.count > 2 ? bounds[2] : 1
                guard step != 0 else { throw TemplateError(.render, "range() step must not be zero") }
                // Counted in Double so that no bound can overflow: only a count within the limit is used.
                let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
                let exact = max(0, (span / abs(Double(step))).rounded(.up))
                guard exact <= Double(limits.maximumIterations) else {
                    throw TemplateError(.limit, "range() of \(exact) items exceeds \(limits.maximumIterations)")
                }
                let count = Int(exact)
                var values: [Value] = []
                values.reserveCapacity(count)
                var value = start
                while values.count < count, step > 0 ? value < stop : value > stop {
                    values.append(.int(value))
                    let (next, overflow) = value.addingReportingOverflow(step)
                    if overflow { break }
                    value = next
                }
                return .array(values)
            },
        ]
    }
}
