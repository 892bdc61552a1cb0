/// Turns tokens back into bytes (tokenizers' `decoder`), one token at a time so output can stream.
///
/// The decoders real Llama-family tokenizers use reduce to a few steps, applied in this order:
/// byte-level alphabet → bytes; `<0xXX>` byte fallback; literal replacements (`▁` → space);
/// dropping up to `stripLeading` spaces at the start of the text.
struct TokenDecoder: Sendable {
    var byteLevel = false
    var byteFallback = false
    var replacements: [(String, String)] = []
    var stripLeading = 0

    /// Bytes of `token`; `atStart` when it is the first piece of the text.
    func bytes(of token: String, atStart: Bool) -> [UInt8] {
        if byteLevel {
            var result: [UInt8] = []
            for scalar in token.unicodeScalars {
                if let byte = ByteLevelAlphabet.bytes[scalar] { result.append(byte) } else { result.append(contentsOf: String(scalar).utf8) }
            }
            return result
        }
        if byteFallback, let byte = Self.fallbackByte(token) { return [byte] }
        var text = token
        for (target, replacement) in replacements { text = text.replacingOccurrences(of: target, with: replacement) }
        var result = Array(text.utf8)
        if atStart {
            var stripped = 0
            while stripped < stripLeading, result.first == UInt8(ascii: " ") {
                result.removeFirst()
                stripped += 1
            }
        }
        return result
    }

    /// The byte of a `<0xXX>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        guard token.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        return UInt8(token.dropFirst(3).prefix(2), radix: 16)
    }

    static func make(_ json: JSONObject?) throws -> TokenDecoder {
        var decoder = TokenDecoder()
        guard let json else { return decoder }
        try decoder.add(json)
        let growth = TextGrowth.product(decoder.replacements.map { TextGrowth.ofReplacing($0.0, with: $0.1) })
        guard growth <= maximumTextGrowth else {
            throw TokenizerError.invalid(json.path, "the Replace stages can make a token up to \(growth) times longer; at most \(maximumTextGrowth) is supported")
        }
        return decoder
    }

    private mutating func add(_ json: JSONObject) throws {
        switch try json.type() {
        case "Sequence":
            for stage in json.objects("decoders") { try add(stage) }
        case "ByteLevel":
            byteLevel = true
        case "ByteFallback":
            byteFallback = true
        case "Fuse":
            break  // tokens are concatenated anyway
        case "Replace":
            guard case .literal(let target) = try json.pattern("pattern") else {
                throw TokenizerError.unsupported(field: json.field("pattern"), type: "Regex")
            }
            replacements.append((target, try json.requireString("content")))
        case "Strip":
            guard (json.int("stop") ?? 0) == 0, (json.string("content") ?? " ") == " " else {
                throw TokenizerError.unsupported(field: json.path, type: "Strip with stop or non-space content")
            }
            stripLeading = json.int("start") ?? 0
        case "Metaspace":
            let replacement = json.string("replacement") ?? "▁"
            replacements.append((replacement, " "))
            let scheme = json.string("prepend_scheme") ?? ((json.bool("add_prefix_space") ?? true) ? "always" : "never")
            stripLeading = scheme == "never" ? 0 : 1
        case let other:
            throw TokenizerError.unsupported(field: json.path, type: other)
        }
    }
}

/// Adds special tokens around an encoded sequence (tokenizers' `TemplateProcessing` for single sequences).
struct PostProcessor: Sendable {
    var prefix: [Int] = []
    var suffix: [Int] = []

    /// - tokenCount: ids of special tokens must be below it; vocabulary: the id of a token.
    static func make(_ json: JSONObject?, tokenCount: Int, vocabulary: (String) -> Int?) throws -> PostProcessor {
        var processor = PostProcessor()
        guard let json else { return processor }
        try processor.add(json, tokenCount: tokenCount, vocabulary: vocabulary)
        return processor
    }

    private mutating func add(_ json: JSONObject, tokenCount: Int, vocabulary: (String) -> Int?) throws {
        switch try json.type() {
        case "Sequence":
            for stage in json.objects("processors") { try add(stage, tokenCount: tokenCount, vocabulary: vocabulary) }
        case "ByteLevel":
            break  // only adjusts offsets
        case "TemplateProcessing":
            let special = json.object("special_tokens")
            var seenSequence = false
            for (index, item) in ((json.values["single"] as? [Any]) ?? []).enumerated() {
                guard let entry = item as? [String: Any] else { continue }
                if entry["Sequence"] != nil { seenSequence = true; continue }
                guard let token = entry["SpecialToken"] as? [String: Any], let name = token["id"] as? String else {
                    throw TokenizerError.invalidJSON(file: "tokenizer.json", reason: "\(json.path).single[\(index)] is neither Sequence nor SpecialToken")
                }
                let field = json.field("special_tokens") + "." + name + ".ids"
                var ids = vocabulary(name).map { [$0] }
                if let listed = special?.object(name)?.values["ids"] as? [Any] {
                    ids = try listed.map { item in
                        guard let id = JSONObject.exactInteger(item), id >= 0, id < tokenCount else {
                            throw TokenizerError.invalid(field, "\(String(describing: item).prefix(40)) is not a token id in [0, \(tokenCount))")
                        }
                        return id
                    }
                }
                guard let ids else { throw TokenizerError.unknownToken(name) }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
        case "BertProcessing", "RobertaProcessing":
            throw TokenizerError.unsupported(field: json.path, type: try json.type())
        case let other:
            throw TokenizerError.unsupported(field: json.path, type: other)
        }
    }
}
