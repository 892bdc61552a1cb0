import Foundation
import Cache
import Models
import Tokenizers

/// One scheduling step: the batched forward pass and what each sequence does with its logits.
extension SchedulerEngine {
    /// Runs one forward pass over every decoding sequence's next token and up to `prefillChunk` prompt
    /// tokens of the prefilling ones (in admission order), then samples for every sequence that got logits.
    /// A composed `blend` prompt's first rows (up to `prefillChunk` of its query, whatever the others took) bring
    /// its chunk tokens along, under selective recompute; they count against the chunk by `PendingBlend.cost`.
    func step() {
        var members: [ActiveSequence] = []
        var batch: [SequenceRows] = []
        var selections: [Int: RowSelection] = [:]
        for sequence in active where !sequence.isPrefilling {
            members.append(sequence)
            batch.append(SequenceRows(sequence: sequence.sequence, tokens: [sequence.tokens[sequence.computed]],
                                      positions: [sequence.computed]))
        }
        var chunk = configuration.prefillChunk
        for sequence in active where sequence.isPrefilling && chunk > 0 {
            // A blend's selection ranks the chunk rows by what the query sees: it gets its query's first
            // `prefillChunk` rows whatever the others took.
            let count = min(sequence.pending, sequence.blend == nil ? chunk : configuration.prefillChunk)
            chunk -= count
            let range = sequence.computed..<(sequence.computed + count)
            var rows = SequenceRows(sequence: sequence.sequence, tokens: Array(sequence.tokens[range]), positions: Array(range),
                                    outputs: count == sequence.pending ? .last : .none)
            if let blend = sequence.blend {
                chunk -= blend.cost(layers: model.config.layers)
                rows.tokens = blend.tokens + rows.tokens
                rows.positions = blend.positions + rows.positions
                // The query sees every cell the sequence held before this step.
                selections[batch.count] = .blend(blend.parameters, layers: model.config.layers, cache: cache, sequence: sequence.sequence,
                                                 chunkPositions: blend.positions, visible: Array(0..<sequence.computed)) { [sequence] chosen in
                    sequence.blend?.recomputed = chosen
                }
            }
            members.append(sequence)
            batch.append(rows)
        }
        guard !batch.isEmpty else { return }
        steps += 1
        let logits: [Logits]
        do {
            logits = try model.forward(batch: batch, cache: cache, selections: selections)
        } catch {
            // Nothing in the batch can go on (the inputs were checked at submit; this is an engine fault).
            for sequence in members { release(sequence, error: error) }
            active.removeAll { sequence in members.contains { $0 === sequence } }
            return
        }
        var generated = 0
        var outcomes: [(ActiveSequence, SequenceStep)] = []
        for (index, sequence) in members.enumerated() {
            sequence.computed += batch[index].tokens.count
            if let blend = sequence.blend {
                sequence.computed -= blend.tokens.count
                settle(blend, for: sequence)
            }
            guard logits[index].rows > 0 else { continue }
            let before = sequence.generated
            outcomes.append((sequence, accept(logits[index].last, for: sequence)))
            generated += sequence.generated - before
        }
        // State first (finished sequences parked, counters), so the snapshot is current when a stream ends.
        for case let (sequence, .finished) in outcomes {
            active.removeAll { $0 === sequence }
            park(sequence)
        }
        inbox.locked { inbox.snapshot.generatedTokens += generated }
        publish()
        for (sequence, outcome) in outcomes {
            switch outcome {
            case .next(let token):
                if !emit(token, for: sequence) { cancel(sequence) }
            case let .finished(reason, last):
                finish(sequence, reason: reason, last: last)
            }
        }
    }

    /// After a blend step: the recomputed chunk tokens are counted, and the library's others become `cached_tokens`.
    private func settle(_ blend: PendingBlend, for sequence: ActiveSequence) {
        sequence.blend = nil
        let cached = blend.library.subtracting(blend.recomputed).count
        sequence.usage.recomputedTokens = blend.recomputed.count
        sequence.usage.cachedTokens = cached
        sequence.usage.reusedTokens = cached
        if cached > 0 { inbox.locked { inbox.snapshot.cachedTokens += cached } }
    }

    /// Samples the next token of `sequence` from `row` (`[vocabulary]`) and decides whether it goes on.
    func accept(_ row: ArraySlice<Float>, for sequence: ActiveSequence) -> SequenceStep {
        let job = sequence.job
        let now = Clock.now()
        if sequence.firstTokenTime == nil {
            sequence.firstTokenTime = now
            sequence.usage.timeToFirstToken = now - sequence.submitted
        }
        let token = sequence.sampler.sample(row, history: sequence.tokens, occurrences: sequence.occurrences,
                                            frequencyPenalty: job.frequencyPenalty, presencePenalty: job.presencePenalty)
        let (logprob, top) = probabilities(row, token: token, alternatives: job.topLogprobs)
        if job.request.stopOnEOS, endOfSequence.contains(token) {
            let rest = flush(sequence)
            return .finished(.stop, last: rest.isEmpty ? nil : GeneratedToken(token: token, text: rest, logprob: logprob, top: top, step: steps))
        }
        sequence.generated += 1
        sequence.occurrences[token, default: 0] += 1
        sequence.tokens.append(token)
        let (text, stopped) = sequence.filter.feed(sequence.decoder.append(token))
        var generated = GeneratedToken(token: token, text: text, logprob: logprob, top: top, step: steps)
        if stopped { return .finished(.stop, last: generated) }
        if sequence.generated >= job.request.maxTokens || (sequence.computed >= context && !makeRoom(sequence)) {
            generated.text += flush(sequence)
            return .finished(.length, last: generated)
        }
        return .next(generated)
    }

    /// Whatever the decoder and the stop-string filter still hold, at the end of a stream.
    private func flush(_ sequence: ActiveSequence) -> String {
        let (text, _) = sequence.filter.feed(sequence.decoder.finish())
        return text + sequence.filter.flush()
    }

    /// The chosen token's logprob and the `alternatives` best, under the raw logits.
    private func probabilities(_ row: ArraySlice<Float>, token: Int, alternatives: Int?) -> (TokenLogprob?, [TokenLogprob]) {
        guard let alternatives else { return (nil, []) }
        let chosen = describe(token, logprob: LogProbabilities.logProbability(row, of: token))
        return (chosen, LogProbabilities.top(row, count: alternatives).map { describe($0.token, logprob: $0.logProbability) })
    }

    private func describe(_ token: Int, logprob: Double) -> TokenLogprob {
        // A state that has already output text, so the bytes are those of a continuation (a SentencePiece
        // decoder drops the leading space of the first token only).
        var state = DecodeState()
        _ = tokenizer.bytes(of: token, state: &state, skipSpecialTokens: false)
        let bytes = tokenizer.bytes(of: token, state: &state, skipSpecialTokens: false)
        return TokenLogprob(token: token, text: String(decoding: bytes, as: UTF8.self), bytes: bytes, logprob: Float(logprob))
    }

    /// The context is full: with `.reanchor`, drops the oldest whole turns (or, without turns, the oldest half
    /// after the sinks) so that at most 3/4 of the context stays, and shifts the rest down. False when nothing
    /// can be dropped (the job then finishes with `length`).
    func makeRoom(_ sequence: ActiveSequence) -> Bool {
        guard sequence.job.overflow == .reanchor, model.rotary.scaling.composes,
              let dropped = OverflowPlan.drop(count: sequence.computed, turnStarts: sequence.turnStarts, target: context * 3 / 4),
              !dropped.isEmpty else { return false }
        let held = sequence.computed
        cache.remove(sequence: sequence.sequence, range: dropped)
        if dropped.upperBound < held {
            do {
                try cache.shift(sequence: sequence.sequence, range: dropped.upperBound..<held, by: -dropped.count)
            } catch {
                // Cannot happen (the rotation composes and the target positions were just freed); if it did, the
                // cells past the gap would sit at stale positions: keep only those before it.
                cache.remove(sequence: sequence.sequence, range: dropped.upperBound..<held)
                sequence.tokens.removeSubrange(dropped.lowerBound..<held)
                sequence.computed = dropped.lowerBound
                return false
            }
        }
        sequence.tokens.removeSubrange(dropped)
        sequence.computed -= dropped.count
        sequence.turnStarts = OverflowPlan.turnStarts(sequence.turnStarts, after: dropped)
        sequence.usage.droppedTokens += dropped.count
        return true
    }

    /// Streams `token`; false when the consumer is gone.
    private func emit(_ token: GeneratedToken, for sequence: ActiveSequence) -> Bool {
        if case .terminated = sequence.continuation.yield(.token(token)) { return false }
        return true
    }

    /// The consumer is gone: free the sequence at once.
    private func cancel(_ sequence: ActiveSequence) {
        active.removeAll { $0 === sequence }
        release(sequence)
    }

    /// Ends a stream: the last token, if any, then `.finished` with the usage.
    func finish(_ sequence: ActiveSequence, reason: FinishReason, last: GeneratedToken?) {
        if let last { sequence.continuation.yield(.token(last)) }
        sequence.usage.completionTokens = sequence.generated
        sequence.continuation.yield(.finished(reason, sequence.usage))
        sequence.continuation.finish()
    }

    /// Keeps a finished sequence's KV for the tenant's next turn (or frees it when it holds none).
    func park(_ sequence: ActiveSequence) {
        if sequence.computed > 0 {
            parked.park(sequence: sequence.sequence, tokens: Array(sequence.tokens[..<sequence.computed]), tenant: sequence.job.tenant)
        } else {
            free(sequence: sequence.sequence)
        }
    }
}
