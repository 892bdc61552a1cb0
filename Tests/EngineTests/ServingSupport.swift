import Foundation
import Engine

/// What a completion stream delivered.
struct CollectedCompletion {
    var tokens: [Int] = []
    var text = ""
    var events: [GeneratedToken] = []
    var reason: FinishReason?
    var usage: CompletionUsage?
}

/// Reads a stream to its end.
func collect(_ stream: AsyncThrowingStream<CompletionEvent, Error>) async throws -> CollectedCompletion {
    var result = CollectedCompletion()
    for try await event in stream {
        switch event {
        case .token(let token):
            result.tokens.append(token.token)
            result.text += token.text
            result.events.append(token)
        case let .finished(reason, usage):
            result.reason = reason
            result.usage = usage
        }
    }
    return result
}

/// Polls `condition` every 10 ms for up to `seconds`; true when it held.
func eventually(within seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// The embedded model, loaded per test: a scheduler's thread runs forward passes on it, so tests running in
/// parallel must not share one.
func loadServingModel() throws -> LanguageModel {
    try LanguageModel(directory: repositoryRoot.appendingPathComponent("models/books-5m"))
}

/// Greedy generation request of `count` tokens that ignores EOS (so lengths are exact).
func greedy(_ count: Int) throws -> GenerationRequest { try GenerationRequest(maxTokens: count, stopOnEOS: false) }
