/// Which tokens overflow drops from a sequence: one contiguous range right after what is always kept
/// (the system prompt, `turnStarts[0]` tokens; or, without turns, 4 attention-sink tokens), so the rest can
/// be re-anchored with one shift of the cache.
enum OverflowPlan {
    /// Sink tokens kept when a job gives no turns (the command line's `Truncation` default).
    static let sinkTokens = 4

    /// The range of `count` tokens to drop so that at most `target` remain, or the most that can be dropped
    /// when that is impossible; nil when nothing can be dropped.
    /// - turnStarts: ascending offsets (< count) of the turns after the system prompt. Whole turns go, oldest
    ///   first, never the last one (it holds the current request). Empty: from the sinks on, the oldest half
    ///   of the rest, repeated until `target` is met.
    static func drop(count: Int, turnStarts: [Int], target: Int) -> Range<Int>? {
        guard count > target else { return nil }
        if let first = turnStarts.first {
            guard turnStarts.count >= 2 else { return nil }
            for end in turnStarts.dropFirst() where count - (end - first) <= target { return first..<end }
            return first..<turnStarts[turnStarts.count - 1]
        }
        let keep = min(sinkTokens, count)
        var dropped = 0
        while count - dropped > target, count - keep - dropped > 0 {
            let rest = count - keep - dropped
            dropped += min(rest, max(1, Int((Double(rest) * 0.5).rounded())))
        }
        return dropped > 0 ? keep..<(keep + dropped) : nil
    }

    /// Turn offsets after `dropped` is removed: turns inside it vanish, later ones move down.
    static func turnStarts(_ starts: [Int], after dropped: Range<Int>) -> [Int] {
        var result: [Int] = []
        for start in starts {
            let moved = start < dropped.lowerBound ? start : start >= dropped.upperBound ? start - dropped.count : dropped.lowerBound
            if result.last != moved { result.append(moved) }
        }
        return result
    }

    /// What a prompt keeps in a `context`-token window: the dropped range (nil when it fits), or
    /// `promptTooLong` when it cannot fit (with `.error`, or when no turn can be dropped).
    /// A prompt fits when one generated token can follow it (`count < context`); a prompt that must be cut
    /// is cut to leave room for `min(maxTokens, context / 4)` tokens (at least 1).
    static func prompt(_ job: CompletionJob, context: Int) throws -> Range<Int>? {
        let count = job.prompt.count
        guard count >= context else { return nil }
        guard job.overflow == .reanchor else { throw SchedulerError.promptTooLong(tokens: count, context: context) }
        let room = max(1, min(job.request.maxTokens, context / 4))
        guard let dropped = drop(count: count, turnStarts: job.turnStarts, target: context - room),
              count - dropped.count < context else {
            throw SchedulerError.promptTooLong(tokens: count, context: context)
        }
        return dropped
    }
}
