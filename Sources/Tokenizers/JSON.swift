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
    func int(_ key: String) -> Int? { (values[key] as? NSNumber)?.intValue }

    func object(_ key: String) -> JSONObject? {
        (values[key] as? [String: Any]).map { JSONObject($0, path: path + "." + key) }
    }

    func objects(_ key: String) -> [JSONObject] {
        ((values[key] as? [Any]) ?? []).enumerated().compactMap { index, item in
            (item as? [String: Any]).map { JSONObject($0, path: "\(path).\(key)[\(index)]") }
        }
    }

    func requireString(_ key: String) throws -> String {
        guard let value = string(key) else { throw TokenizerError.missingField(path + "." + key) }
        return value
    }

    /// The `"type"` of a pipeline stage.
    func type() throws -> String { try requireString("type") }

    /// A `{"String": s}` or `{"Regex": r}` pattern.
    func pattern(_ key: String) throws -> Pattern {
        guard let pattern = object(key) else { throw TokenizerError.missingField(path + "." + key) }
        if let literal = pattern.string("String") { return .literal(literal) }
        if let regex = pattern.string("Regex") { return .regex(regex) }
        throw TokenizerError.missingField(path + "." + key + ".String|Regex")
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
        case .regex(let expression): source = expression
        }
        do { return try NSRegularExpression(pattern: source) } catch {
            throw TokenizerError.invalidJSON(file: "tokenizer.json", reason: "\(field): invalid regular expression \(source)")
        }
    }
}

extension NSRegularExpression {
    /// Ranges of every match in `text`, as Swift string ranges.
    func matchRanges(in text: String) -> [Range<String.Index>] {
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        return matches(in: text, range: whole).compactMap { Range($0.range, in: text) }.filter { !$0.isEmpty }
    }
}
