import Engine
import Documents
import Foundation
import Models
import Tokenizers

/// One MuSiQue-style question: retrieved passages, the question, reference answers.
public struct RAGQuestion: Sendable, Decodable {
    public struct Passage: Sendable, Decodable {
        public var title: String
        public var text: String
    }
    public var ctxs: [Passage]
    public var question: String
    public var answers: [String]

    /// Reads a JSON list of questions; the error names the file.
    public static func load(_ url: URL) throws -> [RAGQuestion] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EngineError.invalidParameter(name: "dataset", reason: "cannot read \(url.path)")
        }
        do { return try JSONDecoder().decode([RAGQuestion].self, from: data) } catch {
            throw EngineError.invalidParameter(name: "dataset", reason: "\(url.lastPathComponent) is not a list of {ctxs, question, answers}: \(error)")
        }
    }
}

/// The four-mode comparison (plus exact prefix caching) on retrieval-augmented questions: TTFT cold and
/// warm, quality against full recompute, hit rate under shuffled passage order, library bytes per token.
public struct RAGExperiment {
    public struct ModeRow: Codable, Sendable {
        public var mode: String
        public var ttft_ms_cold: Double
        public var ttft_ms_warm: Double
        public var ttft_ratio_to_full_warm: Double
        public var answer_perplexity: Double
        public var kl_to_full: Double
        public var top1_agreement: Double
        /// Nil when attention was not captured (timing runs).
        public var attention_similarity: Double?
        public var hit_rate_shuffled: Double
        public var reused_fraction: Double
        /// K/V payload bytes per stored token in the library's format (`libraryFormat`).
        public var library_bytes_per_token: Double
    }

    public struct Report: Codable, Sendable {
        public var model: String
        public var questions: Int
        public var passages: Int
        public var shuffle_orders: Int
        public var mean_prompt_tokens: Double
        public var modes: [ModeRow]
    }

    public var questions: Int
    public var passages: Int
    public var shuffleOrders: Int
    public var blend: BlendParameters
    /// Capture the query rows' attention for the similarity figure. Capturing costs a full attention matrix
    /// per layer in `full` mode, so timing runs on large shapes turn it off.
    public var captureAttention: Bool
    /// The modes to run; `full` always runs, as the reference.
    public var modes: Set<ReuseMode>
    /// Token budget of each prompt (passages are cut to fit); nil for the model's whole context.
    public var context: Int?
    /// How the library stores chunk K/V (the reuse modes read them back rounded to it).
    public var libraryFormat: KVFormat

    public init(questions: Int = 10, passages: Int = 10, shuffleOrders: Int = 2, blend: BlendParameters = .standard,
                captureAttention: Bool = true, context: Int? = nil, modes: Set<ReuseMode> = Set(ReuseMode.allCases),
                libraryFormat: KVFormat = .f32) throws {
        guard questions >= 1 else { throw EngineError.invalidParameter(name: "questions", reason: "must be >= 1") }
        guard passages >= 1 else { throw EngineError.invalidParameter(name: "passages", reason: "must be >= 1") }
        guard shuffleOrders >= 1 else { throw EngineError.invalidParameter(name: "shuffle-orders", reason: "must be >= 1") }
        self.questions = questions
        self.passages = passages
        self.shuffleOrders = shuffleOrders
        self.blend = blend
        if let context, context < 64 { throw EngineError.invalidParameter(name: "context", reason: "must be >= 64, found \(context)") }
        self.captureAttention = captureAttention
        self.context = context
        self.modes = modes
        self.libraryFormat = libraryFormat
    }

    /// The prompt for `item` with its passages in `order`. Each passage is cut to the same token budget so
    /// that all of them fit `context` with the question and answer (small models have short contexts); the
    /// same passage therefore has the same tokens in every order.
    static func prompt(_ item: RAGQuestion, order: [Int], tokenizer: any Tokenizer, bos: Int?, context: Int,
                       answer: [Int]) -> RAGPrompt {
        let template = RAGTemplate()
        let prefix = template.prefix(tokenizer: tokenizer, bos: bos)
        let query = template.query(item.question, tokenizer: tokenizer)
        let budget = max(8, (context - prefix.count - query.count - answer.count) / max(order.count, 1))
        let chunks = order.map { template.chunk("\(item.ctxs[$0].title): \(item.ctxs[$0].text)", tokenizer: tokenizer, budget: budget) }
        return RAGPrompt(prefix: prefix, chunks: chunks, query: query)
    }

    public func run(languageModel: LanguageModel, model: any CausalLanguageModel, dataset: [RAGQuestion], label: String,
                    progress: (Int, Int) -> Void) async throws -> Report {
        let tokenizer = languageModel.tokenizer
        let bos = model.config.bosTokenID
        let items = Array(dataset.prefix(questions))
        guard !items.isEmpty else { throw EngineError.emptyInput("dataset") }
        let modes = ReuseMode.allCases.filter { $0 == .full || self.modes.contains($0) }
        let promptContext = context ?? model.config.usableWindow
        guard promptContext <= model.config.usableWindow else {
            throw EngineError.invalidParameter(name: "context", reason: "\(promptContext) exceeds the model's \(model.config.usableWindow)-token context")
        }
        var sums: [ReuseMode: [String: Double]] = [:]
        var promptTokens = 0.0
        var step = 0
        let total = items.count * modes.count
        for (index, item) in items.enumerated() {
            let answer = tokenizer.encode(" " + (item.answers.first ?? ""), addSpecialTokens: false)
            var random = SplitMix64(seed: UInt64(index + 1))
            let count = min(passages, item.ctxs.count)
            let orders = (0...shuffleOrders).map { round -> [Int] in
                var order = Array(0..<count)
                if round > 0 { for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) } }
                return order
            }
            let prompts = orders.map { Self.prompt(item, order: $0, tokenizer: tokenizer, bos: bos, context: promptContext, answer: answer) }
            promptTokens += Double(prompts[0].tokens.count)
            // The reference, and the `full` row: full recompute of the warm (last) order. Full recompute uses no
            // library, so its cold and warm times are the same run.
            guard let warmPrompt = prompts.last else { continue }  // orders holds the first order and the shuffles
            let reference = try await measure(warmPrompt, answer: answer, mode: .full, composer: nil, model: model)
            for mode in modes {
                var hits = 0.0, chunkTokens = 0.0
                var cold = reference.seconds
                var warm = reference
                var library_bytes = 0.0
                if mode != .full {
                    // A fresh library per question and mode: cold is the first order, warm the last.
                    let geometry = try model.libraryGeometry()
                    let library = try DocumentLibrary(fingerprint: languageModel.fingerprint, geometry: geometry, format: libraryFormat)
                    let composer = PromptComposer(model: model, library: library)
                    for (round, prompt) in prompts.enumerated() {
                        warm = try await measure(prompt, answer: answer, mode: mode, composer: composer, model: model)
                        if round == 0 { cold = warm.seconds } else {
                            hits += Double(warm.chunkTokensFromLibrary)
                            chunkTokens += Double(prompt.chunkTokenCount)
                        }
                    }
                    // The memory tier holds f32; what disk and remote tiers store is the format's payload per token.
                    let f32PerToken = model.cacheGeometry(capacity: 1).bytesPerToken
                    let storedPerToken = libraryFormat.bytesPerToken(layers: geometry.layers, kvHeads: geometry.kvHeads,
                                                                     keyDimension: geometry.keyDimension,
                                                                     valueDimension: geometry.valueDimension) ?? f32PerToken
                    library_bytes = Double(await library.statistics.memory.bytes) / Double(f32PerToken) * Double(storedPerToken)
                }
                let stored = Double(prompts[0].chunkTokenCount + prompts[0].prefix.count)  // chunks and the prefix are entries
                var row = sums[mode, default: [:]]
                row["cold", default: 0] += cold
                row["warm", default: 0] += warm.seconds
                row["full", default: 0] += reference.seconds
                row["nll", default: 0] += warm.answerNLL
                row["kl", default: 0] += Self.meanKL(reference.answerLogits, warm.answerLogits)
                row["top1", default: 0] += Self.top1(reference.answerLogits, warm.answerLogits)
                // Comparable only when both captures cover the same query rows (an exact `prefix` hit that reaches
                // into the query computes fewer rows): such questions are left out, never counted as 0.
                if let similarity = Self.attentionSimilarity(reference.attention, warm.attention,
                                                             blocks: warmPrompt.query.count * model.config.heads) {
                    row["attention", default: 0] += similarity
                    row["attentionCount", default: 0] += 1
                }
                row["hit", default: 0] += chunkTokens > 0 ? hits / chunkTokens : 0
                row["reused", default: 0] += Double(warm.reusedTokens) / Double(warmPrompt.tokens.count)
                row["bytes", default: 0] += stored > 0 && mode != .full && mode != .prefix ? library_bytes / stored : 0
                sums[mode] = row
                step += 1
                progress(step, total)
            }
        }
        let n = Double(items.count)
        let rows = modes.map { mode -> ModeRow in
            let s = sums[mode, default: [:]]
            return ModeRow(mode: mode.rawValue, ttft_ms_cold: s["cold", default: 0] / n * 1000, ttft_ms_warm: s["warm", default: 0] / n * 1000,
                           ttft_ratio_to_full_warm: s["warm", default: 0] / max(s["full", default: 1], 1e-12),
                           answer_perplexity: exp(s["nll", default: 0] / n), kl_to_full: s["kl", default: 0] / n,
                           top1_agreement: s["top1", default: 0] / n,
                           attention_similarity: captureAttention && s["attentionCount", default: 0] > 0
                               ? s["attention", default: 0] / s["attentionCount", default: 1] : nil,
                           hit_rate_shuffled: s["hit", default: 0] / n, reused_fraction: s["reused", default: 0] / n,
                           library_bytes_per_token: s["bytes", default: 0] / n)
        }
        return Report(model: label, questions: items.count, passages: passages, shuffle_orders: shuffleOrders,
                      mean_prompt_tokens: promptTokens / n, modes: rows)
    }

    struct Measurement {
        var seconds: Double
        var answerNLL: Double
        /// `[answer tokens]` logit rows predicting each answer token.
        var answerLogits: [ArraySlice<Float>]
        var attention: [[Float]]
        var reusedTokens: Int
        var chunkTokensFromLibrary: Int
    }

    private func measure(_ prompt: RAGPrompt, answer: [Int], mode: ReuseMode, composer: PromptComposer?, model: any CausalLanguageModel) async throws -> Measurement {
        let composition: Composition
        if let composer {
            composition = try await composer.compose(prompt, mode: mode, blend: blend, extraCapacity: answer.count, captureAttention: captureAttention)
        } else {
            let library = try DocumentLibrary(fingerprint: Fingerprint(model: "reference", tokenizer: "reference"),
                                              geometry: try model.libraryGeometry())
            composition = try await PromptComposer(model: model, library: library)
                .compose(prompt, mode: .full, extraCapacity: answer.count, captureAttention: captureAttention)
        }
        var rows = [composition.logits.last]
        if answer.count > 1 {
            let start = prompt.tokens.count
            let logits = try model.forward(tokens: Array(answer.dropLast()), positions: Array(start..<(start + answer.count - 1)),
                                           cache: composition.cache, outputs: .all)
            rows += (0..<logits.rows).map { logits.row($0) }
        }
        var nll = 0.0
        for (row, token) in zip(rows, answer) { nll -= LogProbabilities.logProbability(row, of: token) }
        return Measurement(seconds: composition.seconds, answerNLL: nll / Double(max(answer.count, 1)), answerLogits: rows,
                           attention: composition.attention, reusedTokens: composition.reusedTokens,
                           chunkTokensFromLibrary: composition.chunkTokensFromLibrary)
    }

    static func meanKL(_ reference: [ArraySlice<Float>], _ other: [ArraySlice<Float>]) -> Double {
        let pairs = zip(reference, other).map { LogProbabilities.klDivergence($0, $1) }
        return pairs.reduce(0, +) / Double(max(pairs.count, 1))
    }

    static func top1(_ reference: [ArraySlice<Float>], _ other: [ArraySlice<Float>]) -> Double {
        let agree = zip(reference, other).filter { Sampler.argmax($0) == Sampler.argmax($1) }.count
        return Double(agree) / Double(max(min(reference.count, other.count), 1))
    }

    /// Cosine similarity of the query rows' attention distributions over the prompt, per layer, row and
    /// head, averaged. Both captures are per layer `[rows, heads, cells]` (`blocks` = rows × heads) over caches
    /// holding the same positions in the same order.
    /// Mean cosine similarity of the query's attention rows, or nil when the captures do not line up.
    static func attentionSimilarity(_ reference: [[Float]], _ other: [[Float]], blocks: Int) -> Double? {
        guard !reference.isEmpty, reference.count == other.count,
              zip(reference, other).allSatisfy({ $0.count == $1.count }) else { return nil }
        var total = 0.0
        var count = 0
        for (a, b) in zip(reference, other) where a.count == b.count && blocks > 0 && a.count % blocks == 0 {
            let cells = a.count / blocks
            for block in 0..<blocks {
                var dot = 0.0, na = 0.0, nb = 0.0
                for i in (block * cells)..<((block + 1) * cells) {
                    dot += Double(a[i]) * Double(b[i])
                    na += Double(a[i]) * Double(a[i])
                    nb += Double(b[i]) * Double(b[i])
                }
                if na > 0, nb > 0 {
                    total += dot / (na * nb).squareRoot()
                    count += 1
                }
            }
        }
        return count > 0 ? total / Double(count) : nil
    }
}
