import Foundation

/// The first stage of encoding: rewrites text before it is split (tokenizers' `normalizer`).
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
    /// At most how many times longer (in UTF-8 bytes, rounded up) the output can be than a long input.
    var maximumGrowth: Int { get }
}

/// Normalised text is at most this many times the input: a chain of `Replace` stages that each multiply the
/// text would otherwise turn a short prompt into gigabytes. Llama 2's normalizer grows text 3 times.
let maximumTextGrowth = 256

struct PrependNormalizer: Normalizer {
    let prefix: String
    func normalize(_ text: String) -> String { text.isEmpty ? text : prefix + text }
    var maximumGrowth: Int { 1 }  // plus the prefix, once
}

struct ReplaceNormalizer: Normalizer {
    let target: String
    let replacement: String
    func normalize(_ text: String) -> String { text.replacingOccurrences(of: target, with: replacement) }
    var maximumGrowth: Int { TextGrowth.ofReplacing(target, with: replacement) }
}

struct NFCNormalizer: Normalizer {
    func normalize(_ text: String) -> String { text.precomposedStringWithCanonicalMapping }
    var maximumGrowth: Int { 3 }  // Unicode's bound on NFC expansion
}

struct NFKCNormalizer: Normalizer {
    func normalize(_ text: String) -> String { text.precomposedStringWithCompatibilityMapping }
    var maximumGrowth: Int { 18 }  // Unicode's bound on NFKC expansion (U+FDFA)
}

struct SequenceNormalizer: Normalizer {
    let stages: [any Normalizer]
    func normalize(_ text: String) -> String { stages.reduce(text) { $1.normalize($0) } }
    var maximumGrowth: Int { TextGrowth.product(stages.map(\.maximumGrowth)) }
}

/// Bounds on how much a rewriting stage lengthens text, without overflow.
enum TextGrowth {
    /// Replacing `target` by `replacement` everywhere: at most replacement/target bytes per byte, rounded up.
    static func ofReplacing(_ target: String, with replacement: String) -> Int {
        let (from, to) = (target.utf8.count, replacement.utf8.count)
        guard from > 0 else { return 1 }  // an empty target replaces nothing
        return max(1, to / from + (to % from == 0 ? 0 : 1))
    }

    /// The growth of stages applied one after another, saturating at Int.max.
    static func product(_ factors: [Int]) -> Int {
        factors.reduce(1) { total, factor in
            let (value, overflow) = total.multipliedReportingOverflow(by: factor)
            return overflow ? Int.max : value
        }
    }
}

enum NormalizerFactory {
    /// Builds the normalizer named by `"type"`; nil JSON means none.
    static func make(_ json: JSONObject?) throws -> (any Normalizer)? {
        guard let json, let normalizer = try stage(json) else { return nil }
        guard normalizer.maximumGrowth <= maximumTextGrowth else {
            throw TokenizerError.invalid(json.path, "the stages can make text up to \(normalizer.maximumGrowth) times longer; at most \(maximumTextGrowth) is supported")
        }
        return normalizer
    }

    private static func stage(_ json: JSONObject) throws -> (any Normalizer)? {
        switch try json.type() {
        case "Sequence":
            return SequenceNormalizer(stages: try json.objects("normalizers").compactMap { try stage($0) })
        case "Prepend":
            return PrependNormalizer(prefix: try json.requireString("prepend"))
        case "Replace":
            guard case .literal(let target) = try json.pattern("pattern") else {
                throw TokenizerError.unsupported(field: json.field("pattern"), type: "Regex")
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
