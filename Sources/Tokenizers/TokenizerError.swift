/// Errors from loading or running a tokenizer; each names the file and field at fault.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(String)
    case invalidJSON(file: String, reason: String)
    case unsupported(field: String, type: String)
    case missingField(String)
    case unknownToken(String)
    case invalidTokenID(Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "tokenizer file not found: \(path)"
        case let .invalidJSON(file, reason): return "\(file): \(reason)"
        case let .unsupported(field, type): return "tokenizer.json: \(field) type '\(type)' is not supported"
        case .missingField(let field): return "tokenizer.json: missing field '\(field)'"
        case .unknownToken(let token): return "tokenizer.json: token '\(token)' is not in the vocabulary"
        case .invalidTokenID(let id): return "token id \(id) is not in the vocabulary"
        }
    }
}

extension TokenizerError {
    /// A tokenizer.json field with a bad value: "tokenizer.json: model.vocab: id -5 ...".
    static func invalid(_ field: String, _ reason: String) -> TokenizerError {
        .invalidJSON(file: "tokenizer.json", reason: "\(field): \(reason)")
    }
}
