import Foundation

/// A parsed JSON object with typed, error-naming accessors for tokenizer.json fields.
struct JSONObject {
    let values: [String: Any]
    let path: String

    init(_ values: [String: Any], path: String) {
        self.values = values
        self.path = path
    }

    func string(_ key: String) -> String? { values[key] as? String }
    func bool(_ key: String) -> Bool? { values[key] as? Bool }
    /// An integer field; nil when absent or not an exact integer (1.5, 1e300 and `true` are not).
    func int(_ key: String) -> Int? { values[key].flatMap(JSONObject.exactInteger) }

    /// `value` as an Int when it is a JSON number with an exact integer value that fits (`JSONParser` makes
    /// those Int; 1.5 and 1e300 are Double, `true` is Bool).
    static func exactInteger(_ value: Any) -> Int? {
        Swift.type(of: value) == Int.self ? value as? Int : nil
    }

    /// The path of field `key` of this object, e.g. `pre_tokenizer.pretokenizers[0].pattern`.
    func field(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func object(_ key: String) -> JSONObject? {
        (values[key] as? [String: Any]).map { JSONObject($0, path: field(key)) }
    }

    func objects(_ key: String) -> [JSONObject] {
        ((values[key] as? [Any]) ?? []).enumerated().compactMap { index, item in
            (item as? [String: Any]).map { JSONObject($0, path: "\(field(key))[\(index)]") }
        }
    }

    func requireString(_ key: String) throws -> String {
        guard let value = string(key) else { throw TokenizerError.missingField(field(key)) }
        return value
    }

    /// The `"type"` of a pipeline stage.
    func type() throws -> String { try requireString("type") }

    /// A `{"String": s}` or `{"Regex": r}` pattern.
    func pattern(_ key: String) throws -> Pattern {
        guard let pattern = object(key) else { throw TokenizerError.missingField(field(key)) }
        if let literal = pattern.string("String") { return .literal(literal) }
        if let regex = pattern.string("Regex") { return .regex(regex) }
        throw TokenizerError.missingField(field(key) + ".String|Regex")
    }
}

/// A literal or regular-expression pattern from tokenizer.json.
enum Pattern {
    case literal(String)
    case regex(String)

    /// A compiled matcher. Literals are escaped.
    func compile(field: String) throws -> NSRegularExpression {
        let source: String
        switch self {
        case .literal(let text): source = NSRegularExpression.escapedPattern(for: text)
        case .regex(let expression):
            try RegexBudget.checkNestedRepetition(expression, field: field)
            source = expression
        }
        do { return try NSRegularExpression(pattern: source) } catch {
            throw TokenizerError.invalid(field, "invalid regular expression \(source.prefix(200))")
        }
    }
}
