import Models
import Cache
import Tokenizers

/// The generation loop: prefill the prompt in one batched forward pass, then decode one token at a time,
/// streaming text as it becomes complete.
public final class Generator {
    public let languageModel: LanguageModel
    /// Tokens the cache holds at most (the context window).
    public let context: Int
    public let cache: KVCache
    /// What happens when the context is full; nil stops generation there.
    public let overflow: Truncation?
    /// Truncations performed by the last `generate` call, and the seconds they took.
    public private(set) var truncations: [Double] = []

    /// - context: the context window in tokens; defaults to the model's `max_position_embeddings`.
    /// - storage: how the cache stores keys (default `.anchored`).
    /// - overflow: truncation on overflow; nil stops at the context window.
    public init(languageModel: LanguageModel, context: Int? = nil, storage: KeyStorage = .anchored, overflow: Truncation? = nil) throws {
        let window = context ?? languageModel.config.maxPositionEmbeddings
        guard window >= 2 else { throw EngineError.invalidParameter(name: "context", reason: "must be >= 2, found \(window)") }
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
        let model = languageModel.model
        let eos = Set(request.stopOnEOS ? model.config.eosTokenIDs : [])
        cache.clear()
        truncations = []
        var sampler = Sampler(parameters: request.sampling)
        var decoder = StreamingDecoder(tokenizer: languageModel.tokenizer, atStart: false)
        var filter = StopStringFilter(stopStrings: request.stopStrings)
        var history = promptTokens
        var cached = promptTokens  // the tokens in the cache, at positions 0..<cached.count
        var generated: [Int] = []
        var text = ""
        var reason = StopReason.maxTokens

        let start = Clock.now()
        var logits = try model.forward(tokens: promptTokens, positions: Array(0..<promptTokens.count), cache: cache)
        let prefillEnd = Clock.now()
        var firstTokenTime = prefillEnd
        var position = promptTokens.count
        while generated.count < request.maxTokens {
            let token = sampler.sample(logits.last, history: history)
            if generated.isEmpty { firstTokenTime = Clock.now() }
            if eos.contains(token) { reason = .endOfSequence; break }
            generated.append(token)
            history.append(token)
            let (emit, stopped) = filter.feed(decoder.append(token))
            text += emit
            if !emit.isEmpty { onText(emit) }
            if stopped { reason = .stopString; break }
            if generated.count == request.maxTokens { break }
            if position >= context {
                guard let overflow else { reason = .contextFull; break }
                truncations.append(try overflow.apply(to: cache, tokens: &cached, model: model))
                position = cached.count
            }
            logits = try model.forward(tokens: [token], positions: [position], cache: cache)
            cached.append(token)
            position += 1
        }
        if reason != .stopString {
            let (emit, _) = filter.feed(decoder.finish())
            let rest = emit + filter.flush()
            text += rest
            if !rest.isEmpty { onText(rest) }
        }
        let end = Clock.now()
        return GenerationResult(promptTokens: promptTokens.count, tokens: generated, text: text, stopReason: reason,
                                timeToFirstToken: firstTokenTime - start, prefillSeconds: prefillEnd - start,
                                decodeSeconds: generated.isEmpty ? 0 : end - firstTokenTime)
    }
}
