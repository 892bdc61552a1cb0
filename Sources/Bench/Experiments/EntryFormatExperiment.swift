import Documents
import Engine
import Foundation
import Models

/// What compact library entries cost in quality: re-anchored reuse (`anchored` mode) of chunks served from
/// entries stored in each `KVFormat`, against the same reuse served from f32 entries, on real text.
///
/// Each prompt is BOS, `chunks` consecutive pieces of `chunkTokens` tokens of the text (the library's
/// chunks) and the next `continuationTokens` tokens, whose logits (the query's last one, then one forward of
/// the rest on the composed cache) are compared: mean KL divergence from the f32 entries' distribution, the
/// largest KL of any position, top-1 agreement, and the continuation's perplexity. Every format composes from
/// a warm library (the chunks were stored by a first composition), so its chunks are hits of its own entries.
public struct EntryFormatExperiment {
    public var formats: [KVFormat]
    public var prompts: Int
    public var chunks: Int
    public var chunkTokens: Int
    public var continuationTokens: Int

    /// - Throws: `EngineError.invalidParameter` naming a count below 1 (3 for continuation tokens).
    public init(formats: [KVFormat] = KVFormat.allCases, prompts: Int = 8, chunks: Int = 4, chunkTokens: Int = 64,
                continuationTokens: Int = 32) throws {
        for (name, value, minimum) in [("prompts", prompts, 1), ("chunks", chunks, 1), ("chunk-tokens", chunkTokens, 1),
                                       ("continuation-tokens", continuationTokens, 3)] where value < minimum {
            throw EngineError.invalidParameter(name: name, reason: "must be >= \(minimum), found \(value)")
        }
        self.formats = formats
        self.prompts = prompts
        self.chunks = chunks
        self.chunkTokens = chunkTokens
        self.continuationTokens = continuationTokens
    }

    public struct Row: Codable, Sendable {
        public var kv: String
        /// Payload bytes per token of this model's entries.
        public var bytes_per_token: Int
        /// Mean over positions of KL(f32 entries || this format), nats.
        public var kl_to_f32_entries: Double
        public var max_kl_to_f32_entries: Double
        /// Positions whose most likely token is the f32 entries' one.
        public var top1_agreement: Double
        public var continuation_perplexity: Double
        /// Mean KL from full recompute (no reuse): the cost of re-anchored reuse itself, for scale.
        public var kl_to_full: Double
    }

    public struct Report: Codable, Sendable {
        public var model: String
        public var prompts: Int
        public var chunks: Int
        public var chunk_tokens: Int
        public var positions: Int
        public var full_perplexity: Double
        public var rows: [Row]
    }

    /// Runs every format on prompts cut from `text`.
    /// - Throws: `EngineError.invalidParameter` when the text is too short for the prompts or a prompt does not
    ///   fit the model's window.
    public func run(languageModel: LanguageModel, text: String, label: String) async throws -> Report {
        let model = languageModel.model
        let tokens = languageModel.tokenizer.encode(text, addSpecialTokens: false)
        let bos = languageModel.config.bosTokenID.map { [$0] } ?? []
        let perPrompt = chunks * chunkTokens + continuationTokens
        guard perPrompt * prompts <= tokens.count else {
            throw EngineError.invalidParameter(name: "text", reason: "\(tokens.count) tokens, fewer than the \(perPrompt * prompts) the prompts need")
        }
        guard bos.count + perPrompt <= model.config.maxPositionEmbeddings else {
            throw EngineError.invalidParameter(name: "chunk-tokens", reason: "a prompt of \(bos.count + perPrompt) tokens exceeds the window")
        }
        let geometry = try model.libraryGeometry()
        let samples = (0..<prompts).map { index -> (RAGPrompt, [Int]) in
            let start = index * perPrompt
            let pieces = (0..<chunks).map { Array(tokens[(start + $0 * chunkTokens)..<(start + ($0 + 1) * chunkTokens)]) }
            let continuation = Array(tokens[(start + chunks * chunkTokens)..<(start + perPrompt)])
            // The query is the continuation's first token; the rest is scored after it.
            return (RAGPrompt(prefix: bos, chunks: pieces, query: [continuation[0]]), Array(continuation.dropFirst()))
        }
        var full: [[ArraySlice<Float>]] = []
        for (prompt, rest) in samples {
            let library = try DocumentLibrary(fingerprint: languageModel.fingerprint, geometry: geometry)
            full.append(try await rows(prompt, rest, composer: PromptComposer(model: model, library: library), mode: .full))
        }
        var byFormat: [KVFormat: [[ArraySlice<Float>]]] = [:]
        for format in Set(formats + [.f32]) {
            for (prompt, rest) in samples {
                let library = try DocumentLibrary(fingerprint: languageModel.fingerprint, geometry: geometry, format: format)
                let composer = PromptComposer(model: model, library: library)
                _ = try await composer.compose(prompt, mode: .anchored)  // stores the chunks
                byFormat[format, default: []].append(try await rows(prompt, rest, composer: composer, mode: .anchored, warm: true))
            }
        }
        let reference = byFormat[.f32] ?? []
        let targets = samples.map { $0.1 }
        let rows = formats.map { format -> Row in
            let measured = byFormat[format] ?? []
            let kl = zip(reference, measured).flatMap { zip($0, $1).map { LogProbabilities.klDivergence($0, $1) } }
            let agree = zip(reference, measured).flatMap { zip($0, $1).map { Sampler.argmax($0) == Sampler.argmax($1) } }
            let toFull = zip(full, measured).flatMap { zip($0, $1).map { LogProbabilities.klDivergence($0, $1) } }
            return Row(kv: format.rawValue,
                       bytes_per_token: format.bytesPerToken(layers: geometry.layers, kvHeads: geometry.kvHeads, keyDimension: geometry.keyDimension,
                                                             valueDimension: geometry.valueDimension) ?? 0,
                       kl_to_f32_entries: Self.mean(kl), max_kl_to_f32_entries: kl.max() ?? 0,
                       top1_agreement: Double(agree.filter { $0 }.count) / Double(max(agree.count, 1)),
                       continuation_perplexity: Self.perplexity(measured, targets), kl_to_full: Self.mean(toFull))
        }
        return Report(model: label, prompts: prompts, chunks: chunks, chunk_tokens: chunkTokens, positions: prompts * (continuationTokens - 1),
                      full_perplexity: Self.perplexity(full, targets), rows: rows)
    }

    /// The logit rows predicting each token of `rest`: the composed query's, then a forward of `rest` but its last.
    /// - warm: every chunk must come from the library.
    private func rows(_ prompt: RAGPrompt, _ rest: [Int], composer: PromptComposer, mode: ReuseMode, warm: Bool = false) async throws
        -> [ArraySlice<Float>] {
        let composition = try await composer.compose(prompt, mode: mode, extraCapacity: rest.count)
        if warm, composition.chunkTokensFromLibrary != prompt.chunkTokenCount {
            throw EngineError.invalidParameter(name: "library", reason: "a warm composition served \(composition.chunkTokensFromLibrary) of "
                                               + "\(prompt.chunkTokenCount) chunk tokens from the library")
        }
        let start = prompt.tokens.count
        let logits = try composer.model.forward(tokens: Array(rest.dropLast()), positions: Array(start..<(start + rest.count - 1)),
                                                cache: composition.cache, outputs: .all)
        return [composition.logits.last] + (0..<logits.rows).map { logits.row($0) }
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }

    /// exp of the mean negative log-likelihood of `targets` under `rows`.
    static func perplexity(_ rows: [[ArraySlice<Float>]], _ targets: [[Int]]) -> Double {
        let losses = zip(rows, targets).flatMap { zip($0, $1).map { -LogProbabilities.logProbability($0, of: $1) } }
        return exp(mean(losses))
    }
}
