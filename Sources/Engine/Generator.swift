import Models
import Cache
import Tokenizers

/// Generation: prefill the prompt in one batched forward pass, then the decode loop, sampling each token,
/// streaming text as it becomes complete, stopping on EOS, stop strings or the token budget, and
/// truncating by `overflow` when the context is full.
public final class Generator {
    public let languageModel: LanguageModel
    /// Tokens the cache holds at most (the context window).
    public let context: Int
    public let cache: KVCache
    /// What happens when the context is full; nil stops generation there.
    public let overflow: Truncation?
    /// Truncations performed by the last `generate` call, and the seconds they took.
    public private(set) var truncations: [Double] = []

    /// - context: the context window in tokens; defaults to the model's `max_position_embeddings`, and may
    ///   not exceed it. Cache memory grows with the tokens held, not with the window.
    /// - storage: how the cache stores keys (default `.anchored`).
    /// - overflow: truncation on overflow; nil stops at the context window.
    public init(languageModel: LanguageModel, context: Int? = nil, storage: KeyStorage = .anchored, overflow: Truncation? = nil) throws {
        let maximum = languageModel.config.usableWindow
        let window = context ?? maximum
        guard window >= 2 else { throw EngineError.invalidParameter(name: "context", reason: "must be >= 2, found \(window)") }
        guard window <= maximum else {
            throw EngineError.invalidParameter(name: "context", reason: "\(window) exceeds the model's window of \(maximum) positions (max_position_embeddings)")
        }
        if let overflow, overflow.policy != .reprefill, !languageModel.model.rotary.scaling.composes {
            throw EngineError.invalidParameter(name: "overflow", reason: "\(overflow.policy.rawValue) moves cached keys, but this model's RoPE scaling "
                                               + "(\(languageModel.model.rotary.scaling)) does not compose rotations; use reprefill")
        }
        if let overflow, overflow.keep >= window - 1 {
            throw EngineError.invalidParameter(name: "keep", reason: "\(overflow.keep) must be below the context window minus one (\(window - 1))")
        }
        self.languageModel = languageModel
        self.context = window
        self.overflow = overflow
        cache = languageModel.model.makeCache(capacity: window, storage: storage)
    }

    /// Encodes `prompt` (with BOS) and generates; `onText` receives text as it completes.
    public func generate(prompt: String, request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let ids = languageModel.tokenizer.encode(prompt, addSpecialTokens: true)
        return try generate(promptTokens: ids, request: request, onText: onText)
    }

    /// Generates after `promptTokens`, starting from an empty cache.
    public func generate(promptTokens: [Int], request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        guard !promptTokens.isEmpty else { throw EngineError.emptyInput("prompt") }
        guard promptTokens.count <= context else {
            throw EngineError.invalidParameter(name: "prompt", reason: "\(promptTokens.count) tokens exceed the context window of \(context)")
        }
        cache.clear()
        let start = Clock.now()
        let logits = try languageModel.model.forward(tokens: promptTokens, positions: Array(0..<promptTokens.count), cache: cache)
        let prefillEnd = Clock.now()
        var result = try continueGeneration(cache: cache, logits: logits, cached: promptTokens, request: request, onText: onText)
        result.timeToFirstToken += prefillEnd - start
        result.prefillSeconds = prefillEnd - start
        return result
    }

    /// The decode half of generation, from a cache that already holds `cached` at positions
    /// `0..<cached.count` of sequence 0 and the logits after them (a prefill, or a composed RAG prompt).
    public func continueGeneration(cache: KVCache, logits: Logits, cached: [Int], request: GenerationRequest,
                                   onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let model = languageModel.model
        let eos = Set(request.stopOnEOS ? model.config.eosTokenIDs : [])
        truncations = []
        var sampler = Sampler(parameters: request.sampling)
        var decoder = StreamingDecoder(tokenizer: languageModel.tokenizer, atStart: false)
        var filter = StopStringFilter(stopStrings: request.stopStrings)
        let promptCount = cached.count
        var history = cached
        var cached = cached
        var generated: [Int] = []
        var text = ""
        var reason = StopReason.maxTokens
        let start = Clock.now()
        var firstTokenTime = start
        let loop = DecodeLoop(model: model, cache: cache, limit: min(context, cache.geometry.capacity))
        let outcome = try loop.run(from: logits, at: cached.count, step: { row in
            if !generated.isEmpty { cached.append(generated[generated.count - 1]) }
            guard generated.count < request.maxTokens else { return .stop }
            let token = sampler.sample(row, history: history)
            if generated.isEmpty { firstTokenTime = Clock.now() }
            if eos.contains(token) { reason = .endOfSequence; return .stop }
            generated.append(token)
            history.append(token)
            let (emit, stopped) = filter.feed(decoder.append(token))
            text += emit
            if !emit.isEmpty { onText(emit) }
            if stopped { reason = .stopString; return .stop }
            return generated.count == request.maxTokens ? .stop : .feed(token)
        }, overflow: { [overflow] _ in
            guard let overflow else { return nil }
            self.truncations.append(try overflow.apply(to: cache, tokens: &cached, model: model))
            return cached.count
        })
        if outcome.contextFull { reason = .contextFull }
        if reason != .stopString {
            let (emit, _) = filter.feed(decoder.finish())
            let rest = emit + filter.flush()
            text += rest
            if !rest.isEmpty { onText(rest) }
        }
        let end = Clock.now()
        var result = GenerationResult(promptTokens: promptCount, tokens: generated, text: text,
                                stopReason: reason, timeToFirstToken: firstTokenTime - start, prefillSeconds: 0,
                                decodeSeconds: generated.isEmpty ? 0 : end - firstTokenTime)
        result.decodeSteps = outcome.fed
        return result
    }
}
