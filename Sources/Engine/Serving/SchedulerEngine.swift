import Foundation
import Cache
import Models
import Tokenizers

/// The engine thread's side of a `Scheduler`: the model, the cache, the running and parked sequences.
///
/// `@unchecked Sendable`: handed to the engine thread at start; after that only that thread touches its
/// mutable state (the `tokenizer` it exposes is immutable and thread-safe). Shared state lives in `inbox`.
final class SchedulerEngine: @unchecked Sendable {
    let model: any CausalLanguageModel
    let tokenizer: BPETokenizer
    let configuration: SchedulerConfiguration
    let context: Int
    let budgetTokens: Int
    let bytesPerToken: Int
    let inbox: SchedulerInbox
    let cache: KVCache
    let endOfSequence: Set<Int>

    var active: [ActiveSequence] = []
    var parked = ParkedSequences()
    /// Batched forward passes run so far.
    var steps = 0
    private var freeSequences: [Int] = []
    private var nextSequence = 0

    init(model: any CausalLanguageModel, tokenizer: BPETokenizer, configuration: SchedulerConfiguration, context: Int, budgetTokens: Int,
         bytesPerToken: Int, inbox: SchedulerInbox) {
        self.model = model
        self.tokenizer = tokenizer
        self.configuration = configuration
        self.context = context
        self.budgetTokens = budgetTokens
        self.bytesPerToken = bytesPerToken
        self.inbox = inbox
        cache = model.makeCache(capacity: budgetTokens)
        endOfSequence = Set(model.config.eosTokenIDs)
    }

    /// The engine thread's loop: cancel, admit, step, publish; until shut down and drained (or past the grace).
    func run() {
        while true {
            let (cancelled, shuttingDown, deadline, queueEmpty) = inbox.locked {
                while inbox.queue.isEmpty, inbox.cancelled.isEmpty, active.isEmpty, !inbox.shuttingDown { inbox.condition.wait() }
                defer { inbox.cancelled.removeAll() }
                return (inbox.cancelled, inbox.shuttingDown, inbox.deadline, inbox.queue.isEmpty)
            }
            for id in cancelled { if let index = active.firstIndex(where: { $0.id == id }) { release(active.remove(at: index)) } }
            if shuttingDown {
                if active.isEmpty, queueEmpty { break }
                if Clock.now() >= deadline { cancelEverything(); break }
            }
            admit()
            if !active.isEmpty { step() }
            publish()
        }
        for entry in parked.entries { cache.remove(sequence: entry.sequence) }
        parked = ParkedSequences()
        cache.clear()
        publish()
        let waiters: [CheckedContinuation<Void, Never>] = inbox.locked {
            inbox.stopped = true
            defer { inbox.stopWaiters.removeAll() }
            return inbox.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Sequences and budget

    private func newSequence() -> Int {
        if let sequence = freeSequences.popLast() { return sequence }
        nextSequence += 1
        return nextSequence - 1
    }

    /// Frees a sequence's cells and id (cancellation, errors, eviction).
    func free(sequence: Int) {
        cache.remove(sequence: sequence)
        freeSequences.append(sequence)
    }

    /// Ends a running job whose consumer is gone or that failed: its KV is freed, not parked.
    func release(_ sequence: ActiveSequence, error: Error = CancellationError()) {
        sequence.continuation.finish(throwing: error)
        free(sequence: sequence.sequence)
    }

    private var reservedTokens: Int { active.reduce(0) { $0 + $1.reservedTokens } }

    private func cancelEverything() {
        for sequence in active { release(sequence) }
        active.removeAll()
        let queued: [QueuedJob] = inbox.locked {
            defer { inbox.queue.removeAll() }
            return inbox.queue
        }
        for job in queued { job.continuation.finish(throwing: CancellationError()) }
    }

    func publish() {
        let inUse = cache.occupied * bytesPerToken
        let running = active.count
        inbox.locked {
            inbox.snapshot.running = running
            inbox.snapshot.queued = inbox.queue.count
            inbox.snapshot.kvBytesInUse = inUse
        }
    }

    // MARK: Admission

    /// Admits queued jobs in order while a sequence slot is free and their KV fits (after evicting parked
    /// sequences, least recently parked first); the first that does not fit waits.
    private func admit() {
        while active.count < configuration.maxSequences {
            guard let queued = inbox.locked({ inbox.queue.first }) else { return }
            let prompt = queued.job.prompt
            var kept = prompt
            if let dropped = queued.dropped { kept.removeSubrange(dropped) }
            var match = !queued.job.reusesParked ? nil
                : parked.bestMatch(tenant: queued.job.tenant, prompt: prompt, kept: kept, dropped: queued.dropped,
                                   canShift: model.rotary.scaling.composes)
            // A composed job brings its prefix's K/V: a parked earlier turn (exact) is taken instead only when it
            // reuses at least as many tokens as the composition keeps (blend recomputes its ratio of the chunks).
            if let composed = queued.job.composed, queued.dropped == nil, let found = match, found.reused < composed.keptTokens {
                match = nil
            }
            var available = budgetTokens - reservedTokens - parked.heldTokens + (match.map { parked.entries[$0.index].tokens.count } ?? 0)
            while available < queued.reservedTokens, let oldest = parked.oldest(except: match?.index) {
                let entry = parked.remove(at: oldest)
                free(sequence: entry.sequence)
                available += entry.tokens.count
                if let current = match, oldest < current.index {
                    match = ParkedSequences.Match(index: current.index - 1, reused: current.reused, matched: current.matched, shifts: current.shifts)
                }
            }
            guard available >= queued.reservedTokens else { return }
            inbox.locked {
                inbox.queue.removeFirst()
                inbox.snapshot.running = active.count + 1
                inbox.snapshot.queued = inbox.queue.count
                inbox.snapshot.promptTokens += prompt.count
            }
            start(queued, kept: kept, match: match)
        }
    }

    /// Turns an admitted job into a running sequence, adopting the matched parked sequence's cells.
    private func start(_ queued: QueuedJob, kept: [Int], match: ParkedSequences.Match?) {
        let job = queued.job
        var sequence: Int
        var reused = 0
        if let match {
            let entry = parked.remove(at: match.index)
            sequence = entry.sequence
            do {
                try adopt(entry, match: match, dropped: queued.dropped)
                reused = match.reused
            } catch {
                // The cells could not be re-anchored (nothing was moved): start cold.
                free(sequence: sequence)
                sequence = newSequence()
            }
        } else {
            sequence = newSequence()
        }
        var usage = CompletionUsage(promptTokens: job.prompt.count, cachedTokens: reused, reusedTokens: reused,
                                    droppedTokens: queued.dropped?.count ?? 0)
        var computed = reused
        var submitted = queued.submitted
        // A prompt cut at submit no longer lines up with its composed K/V: it is computed instead; a job that
        // adopted a parked turn (reusing more) does not need it.
        var blend: PendingBlend?
        if let composed = job.composed, queued.dropped == nil, reused == 0 {
            submitted -= composed.seconds
            do {
                for part in composed.parts { try cache.importSlice(part.slice, sequence: sequence, at: part.offset) }
                computed = composed.tokens.count
                let positions = composed.chunkPositions
                if let parameters = composed.blend, !positions.isEmpty {
                    // cached_tokens is known once the selection has run (the first step).
                    blend = PendingBlend(parameters: parameters, positions: positions, tokens: positions.map { job.prompt[$0] },
                                         library: composed.libraryPositions)
                } else {
                    usage.cachedTokens = composed.libraryTokens
                    usage.reusedTokens = composed.libraryTokens
                }
            } catch {
                // Cannot happen (the server composes with this model's geometry on a fresh sequence); if it
                // did, the prompt is computed.
                free(sequence: sequence)
                sequence = newSequence()
            }
        }
        if usage.cachedTokens > 0 { inbox.locked { inbox.snapshot.cachedTokens += usage.cachedTokens } }
        let turnStarts = queued.dropped.map { OverflowPlan.turnStarts(job.turnStarts, after: $0) } ?? job.turnStarts
        let running = ActiveSequence(id: queued.id, sequence: sequence, job: job, continuation: queued.continuation,
                                     submitted: submitted, reservedTokens: queued.reservedTokens, tokens: kept,
                                     computed: computed, turnStarts: turnStarts, usage: usage, tokenizer: tokenizer)
        running.blend = blend
        if job.request.maxTokens == 0 {
            if blend != nil {
                // Nothing to generate, so no blend step: the placed chunks were never blended, and their K/V is not
                // what this prompt's turn would hold. Reported as placed, and freed rather than parked.
                running.usage.cachedTokens = job.composed?.libraryTokens ?? 0
                running.usage.reusedTokens = running.usage.cachedTokens
                finish(running, reason: .length, last: nil)
                free(sequence: sequence)
                return
            }
            park(running)
            finish(running, reason: .length, last: nil)
            return
        }
        active.append(running)
    }

    /// Keeps the parked sequence's cells that the job's kept prompt starts with, at positions `0..<reused`:
    /// cells past the match go; with a cut prompt, the dropped range goes too and the cells after it are
    /// re-anchored down by its length. If the shift throws, the caller frees the sequence and starts cold.
    private func adopt(_ entry: ParkedSequences.Entry, match: ParkedSequences.Match, dropped: Range<Int>?) throws {
        let held = entry.tokens.count
        if match.shifts, let dropped {
            if match.matched < held { cache.remove(sequence: entry.sequence, range: match.matched..<held) }
            cache.remove(sequence: entry.sequence, range: dropped)
            try cache.shift(sequence: entry.sequence, range: dropped.upperBound..<match.matched, by: -dropped.count)
        } else if match.reused < held {
            cache.remove(sequence: entry.sequence, range: match.reused..<held)
        }
    }
}
