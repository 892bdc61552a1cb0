import Models
import Tokenizers

/// One admitted job on the engine thread: its tokens (positions are their indices), how many of them the
/// cache holds, and the per-job decoding state (sampler, streaming decoder, stop strings, penalties).
final class ActiveSequence {
    let id: UInt64
    /// The cache sequence this job's cells belong to.
    let sequence: Int
    let job: CompletionJob
    let continuation: AsyncThrowingStream<CompletionEvent, Error>.Continuation
    let submitted: Double
    /// KV tokens reserved in the budget for this job: `min(prompt + maxTokens, context)`.
    let reservedTokens: Int

    /// The sequence's tokens: the (possibly cut) prompt, then every generated token; `tokens[p]` is at position p.
    var tokens: [Int]
    /// Tokens `[0, computed)` have K/V in the cache.
    var computed: Int
    /// Turn offsets in `tokens` (overflow drops whole turns).
    var turnStarts: [Int]
    var usage: CompletionUsage
    /// Tokens generated so far (EOS not included).
    var generated = 0
    /// Token -> times generated, for the frequency and presence penalties.
    var occurrences: [Int: Int] = [:]
    var sampler: Sampler
    var decoder: StreamingDecoder
    var filter: StopStringFilter
    var firstTokenTime: Double?
    /// Selective recompute still to run (a composed `blend` prompt before its first step).
    var blend: PendingBlend?

    init(id: UInt64, sequence: Int, job: CompletionJob, continuation: AsyncThrowingStream<CompletionEvent, Error>.Continuation,
         submitted: Double, reservedTokens: Int, tokens: [Int], computed: Int, turnStarts: [Int], usage: CompletionUsage,
         tokenizer: BPETokenizer) {
        self.id = id
        self.sequence = sequence
        self.job = job
        self.continuation = continuation
        self.submitted = submitted
        self.reservedTokens = reservedTokens
        self.tokens = tokens
        self.computed = computed
        self.turnStarts = turnStarts
        self.usage = usage
        sampler = Sampler(parameters: job.request.sampling)
        decoder = StreamingDecoder(tokenizer: tokenizer, atStart: false)
        filter = StopStringFilter(stopStrings: job.request.stopStrings)
    }

    /// Still feeding the prompt: no token sampled yet.
    var isPrefilling: Bool { firstTokenTime == nil }

    /// Tokens not yet in the cache (the prompt's rest while prefilling; the last sampled token while decoding).
    var pending: Int { tokens.count - computed }
}

/// The chunk tokens of a composed prompt that run, under CacheBlend's selection, with its first query rows.
struct PendingBlend {
    let parameters: BlendParameters
    /// `[chunk tokens]` ascending positions, and the tokens there.
    let positions: [Int]
    let tokens: [Int]
    /// Positions served from the library (`cached_tokens` once the recomputed ones are taken out).
    let library: Set<Int>
    /// Set by the selection: the chunk positions recomputed.
    var recomputed: [Int] = []

    /// Rows of the prefill budget it stands for: every chunk row up to the check layer, the kept ones after.
    func cost(layers: Int) -> Int {
        let below = min(parameters.checkLayer, layers - 1) + 1
        let kept = parameters.recomputedCount(of: positions.count)
        return (positions.count * below + kept * (layers - below)) / max(layers, 1)
    }
}

/// What accepting one row of logits did to a sequence.
enum SequenceStep {
    /// A token to stream; the sequence goes on (its token is fed next step).
    case next(GeneratedToken)
    /// The sequence ended, after streaming `last` when there is one.
    case finished(FinishReason, last: GeneratedToken?)
}
