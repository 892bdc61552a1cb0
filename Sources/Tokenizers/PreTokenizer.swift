import Foundation

/// Splits normalised text into pieces that BPE encodes independently (tokenizers' `pre_tokenizer`).
/// Each stage maps every piece to sub-pieces; the pieces of the last stage go to the model.
protocol PreTokenizer: Sendable {
    /// - first: whether `piece` starts the text (Metaspace's `prepend_scheme: first`).
    func split(_ piece: String, first: Bool) -> [String]
}

extension PreTokenizer {
    func split(_ pieces: [String]) -> [String] {
        pieces.enumerated().flatMap { split($1, first: $0 == 0) }
    }
}

/// `Split` with a pattern; behaviours `Isolated` (matches and gaps become pieces), `Removed`,
/// `MergedWithPrevious`, `MergedWithNext`.
struct SplitPreTokenizer: PreTokenizer, @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable after creation and documented thread-safe.
    enum Behavior: String { case isolated = "Isolated", removed = "Removed", mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext" }
    let regex: NSRegularExpression
    let behavior: Behavior
    let invert: Bool

    func split(_ piece: String, first: Bool) -> [String] {
        var pieces: [(Substring, isMatch: Bool)] = []
        var cursor = piece.startIndex
        // A pattern that runs out of its work budget leaves the rest of the piece as one gap.
        for match in regex.matchRanges(in: piece).ranges {
            if cursor < match.lowerBound { pieces.append((piece[cursor..<match.lowerBound], invert)) }
            pieces.append((piece[match], !invert))
            cursor = match.upperBound
        }
        if cursor < piece.endIndex { pieces.append((piece[cursor...], invert)) }
        switch behavior {
        case .isolated:
            return pieces.map { String($0.0) }
        case .removed:
            return pieces.filter { !$0.isMatch }.map { String($0.0) }
        case .mergedWithPrevious:
            var result: [String] = []
            for (text, isMatch) in pieces {
                if isMatch, !result.isEmpty { result[result.count - 1] += text } else { result.append(String(text)) }
            }
            return result
        case .mergedWithNext:
            var result: [String] = []
            var pending = ""
            for (text, isMatch) in pieces {
                if isMatch { pending += text } else { result.append(pending + text); pending = "" }
            }
            if !pending.isEmpty { result.append(pending) }
            return result
        }
    }
}

/// `ByteLevel`: optional prefix space, optional GPT-2 regex split, then bytes → alphabet scalars.
struct ByteLevelPreTokenizer: PreTokenizer {
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    let addPrefixSpace: Bool
    let regexSplit: SplitPreTokenizer?

    func split(_ piece: String, first: Bool) -> [String] {
        let text = addPrefixSpace && !piece.hasPrefix(" ") ? " " + piece : piece
        let parts = regexSplit?.split(text, first: first) ?? [text]
        return parts.map { ByteLevelAlphabet.encode(Substring($0)) }
    }
}

/// `Metaspace` (SentencePiece style): spaces become `▁`, a `▁` is prepended per `prepend_scheme`,
/// and with `split` each `▁` starts a new piece.
struct MetaspacePreTokenizer: PreTokenizer {
    let replacement: Character
    let prependScheme: String
    let splitOnReplacement: Bool

    func split(_ piece: String, first: Bool) -> [String] {
        var text = piece.replacingOccurrences(of: " ", with: String(replacement))
        if prependScheme == "always" || (prependScheme == "first" && first), !text.hasPrefix(String(replacement)) {
            text = String(replacement) + text
        }
        guard splitOnReplacement else { return [text] }
        var result: [String] = []
        var current = ""
        for character in text {
            if character == replacement, !current.isEmpty {
                result.append(current)
                current = ""
            }
            current.append(character)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

/// `Digits`: each digit (or each run of digits) becomes its own piece.
struct DigitsPreTokenizer: PreTokenizer {
    let individual: Bool
    func split(_ piece: String, first: Bool) -> [String] {
        var result: [String] = []
        var current = ""
        var currentIsDigit = false
        for character in piece {
            let isDigit = character.isASCII && character.isNumber
            if !current.isEmpty && (isDigit != currentIsDigit || (isDigit && individual)) {
                result.append(current)
                current = ""
            }
            current.append(character)
            currentIsDigit = isDigit
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

struct SequencePreTokenizer: PreTokenizer {
    let stages: [any PreTokenizer]
    func split(_ piece: String, first: Bool) -> [String] {
        stages.reduce([piece]) { pieces, stage in
            pieces.enumerated().flatMap { stage.split($1, first: first && $0 == 0) }
        }
    }
}

enum PreTokenizerFactory {
    static func make(_ json: JSONObject?) throws -> (any PreTokenizer)? {
        guard let json else { return nil }
        switch try json.type() {
        case "Sequence":
            return SequencePreTokenizer(stages: try json.objects("pretokenizers").compactMap { try make($0) })
        case "Split":
            let behaviorName = json.string("behavior") ?? "Isolated"
            guard let behavior = SplitPreTokenizer.Behavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(field: json.field("behavior"), type: behaviorName)
            }
            return SplitPreTokenizer(regex: try json.pattern("pattern").compile(field: json.field("pattern")),
                                     behavior: behavior, invert: json.bool("invert") ?? false)
        case "ByteLevel":
            let regex = (json.bool("use_regex") ?? true)
                ? SplitPreTokenizer(regex: try Pattern.regex(ByteLevelPreTokenizer.gpt2Pattern).compile(field: json.path),
                                    behavior: .isolated, invert: false)
                : nil
            return ByteLevelPreTokenizer(addPrefixSpace: json.bool("add_prefix_space") ?? false, regexSplit: regex)
        case "Metaspace":
            let replacement = json.string("replacement")?.first ?? "▁"
            let scheme = json.string("prepend_scheme") ?? ((json.bool("add_prefix_space") ?? true) ? "always" : "never")
            return MetaspacePreTokenizer(replacement: replacement, prependScheme: scheme, splitOnReplacement: json.bool("split") ?? true)
        case "Digits":
            return DigitsPreTokenizer(individual: json.bool("individual_digits") ?? false)
        case let other:
            throw TokenizerError.unsupported(field: json.path, type: other)
        }
    }
}
