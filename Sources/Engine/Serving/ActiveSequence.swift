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

/// What accepting one row of logits did to a sequence.
enum SequenceStep {
    /// A token to stream; the sequence goes on (its token is fed next step).
    case next(GeneratedToken)
    /// The sequence ended, after streaming `last` when there is one.
    case finished(FinishReason, last: GeneratedToken?)
}
