import Foundation

/// A job waiting for admission, with what `submit` worked out for it.
struct QueuedJob {
    let id: UInt64
    let job: CompletionJob
    let continuation: AsyncThrowingStream<CompletionEvent, Error>.Continuation
    let submitted: Double
    /// Prompt tokens overflow drops (nil: the prompt fits).
    let dropped: Range<Int>?
    /// KV tokens the job may need: `min(kept prompt + maxTokens, context)`.
    let reservedTokens: Int
}

/// What the submitting threads and the engine thread share, all guarded by `condition`: the admission queue,
/// cancellations, the shutdown request, and the published snapshot.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition` is locked.
final class SchedulerInbox: @unchecked Sendable {
    let condition = NSCondition()
    var queue: [QueuedJob] = []
    /// Ids of running jobs whose consumer stopped listening, for the engine to cancel.
    var cancelled: Set<UInt64> = []
    var nextID: UInt64 = 0
    var shuttingDown = false
    /// When running jobs are cancelled after `shutdown` (monotonic seconds).
    var deadline = Double.infinity
    var stopped = false
    var stopWaiters: [CheckedContinuation<Void, Never>] = []
    var snapshot = SchedulerSnapshot()

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// A consumer stopped listening: drop the job from the queue, or have the engine cancel it.
    func cancel(_ id: UInt64) {
        let removed: QueuedJob? = locked {
            if let index = queue.firstIndex(where: { $0.id == id }) {
                snapshot.queued -= 1
                return queue.remove(at: index)
            }
            cancelled.insert(id)
            condition.signal()
            return nil
        }
        removed?.continuation.finish(throwing: CancellationError())
    }

    /// Stops admitting; running and queued jobs get `grace` seconds.
    func requestShutdown(grace: Double) {
        locked {
            shuttingDown = true
            deadline = min(deadline, Clock.now() + max(grace, 0))
            condition.signal()
        }
    }
}
