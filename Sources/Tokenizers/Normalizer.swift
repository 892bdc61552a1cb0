import Foundation

/// The first stage of encoding: rewrites text before it is split (tokenizers' `normalizer`).
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
}

struct PrependNormalizer: Normalizer {
    let prefix: String
    func normalize(_ text: String) -> String { text.isEmpty ? text : prefix + text }
}

struct ReplaceNormalizer: Normalizer {
    let target: String
    let replacement: String
    func normalize(_ text: String) -> String { text.replacingOccurrences(of: target, with: replacement) }
}

struct NFCNormalizer: Normalizer {
    func normalize(_ text: String) -> String { text.precomposedStringWithCanonicalMapping }
}

struct NFKCNormalizer: Normalizer {
    func normalize(_ text: String) -> String { text.precomposedStringWithCompatibilityMapping }
}

struct SequenceNormalizer: Normalizer {
    let stages: [any Normalizer]
    func normalize(_ text: String) -> String { stages.reduce(text) { $1.normalize($0) } }
}

enum NormalizerFactory {
    /// Builds the normalizer named by `"type"`; nil JSON means none.
    static func make(_ json: JSONObject?) throws -> (any Normalizer)? {
        guard let json else { return nil }
        switch try json.type() {
        case "Sequence":
            return SequenceNormalizer(stages: try json.objects("normalizers").compactMap { try make($0) })
        case "Prepend":
            return PrependNormalizer(prefix: try json.requireString("prepend"))
        case "Replace":
            guard case .literal(let target) = try json.pattern("pattern") else {
                throw TokenizerError.unsupported(field: json.path + ".pattern", type: "Regex")
            }
            return ReplaceNormalizer(target: target, replacement: try json.requireString("content"))
        case "NFC":
            return NFCNormalizer()
        case "NFKC":
            return NFKCNormalizer()
        case let other:
            throw TokenizerError.unsupported(field: json.path, type: other)
        }
    }
}
