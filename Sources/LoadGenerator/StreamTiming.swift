import Foundation

/// Monotonic seconds since the first use in this process (all timings of a run share the origin).
public enum LoadClock {
    private static let origin = ContinuousClock.now

    public static func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

/// When one streamed request was sent, when each of its text chunks arrived, and how it ended.
public struct StreamTiming: Sendable, Equatable {
    public var start: Double
    public var end: Double
    /// Arrival time of every chunk that carried a token: text, or token logprobs (one per token on reanchor
    /// serve and llama-server, except, without logprobs, tokens whose bytes end inside a UTF-8 character or
    /// that have no text, which arrive with the next one).
    public var arrivals: [Double] = []
    /// `usage.completion_tokens`, when the server reported it.
    public var usageTokens: Int?
    public var finishReason: String?
    public var sawDone = false
    public var error: String?

    public init(start: Double, end: Double? = nil, arrivals: [Double] = [], usageTokens: Int? = nil, error: String? = nil) {
        self.start = start
        self.end = end ?? start
        self.arrivals = arrivals
        self.usageTokens = usageTokens
        self.error = error
    }

    /// Tokens generated: the server's count, else the text chunks.
    public var tokens: Int { usageTokens ?? arrivals.count }

    public var succeeded: Bool { error == nil && !arrivals.isEmpty }

    /// Time to first token: request sent to first text chunk.
    public var timeToFirstToken: Double? { arrivals.first.map { $0 - start } }

    /// Time per output token after the first: (last chunk - first chunk) / (tokens - 1).
    public var timePerOutputToken: Double? {
        guard let first = arrivals.first, let last = arrivals.last, tokens > 1 else { return nil }
        return (last - first) / Double(tokens - 1)
    }

    /// Records one event; an error object in the stream throws `LoadError.streamError`.
    public mutating func record(_ chunk: CompletionChunk, at time: Double) throws {
        if let message = chunk.error { throw LoadError.streamError(message) }
        if chunk.hasTokenLogprobs || !(chunk.text ?? "").isEmpty { arrivals.append(time) }
        if let tokens = chunk.completionTokens { usageTokens = tokens }
        if let reason = chunk.finishReason { finishReason = reason }
        if chunk.isDone { sawDone = true }
    }
}
