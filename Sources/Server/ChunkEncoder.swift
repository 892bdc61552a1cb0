import Cache
import Dispatch
import Engine
import Models

/// Prefills document chunks at ingest and a prompt's library misses, off the scheduler and off the Swift cooperative pool: its own model
/// instance over the same (immutable, shared) weights, so its scratch space is its own, run on one serial
/// dispatch queue (one forward pass at a time, as a model requires).
///
/// `@unchecked Sendable`: `model` is touched only on `queue`.
final class ChunkEncoder: @unchecked Sendable {
    private let model: any CausalLanguageModel
    private let queue = DispatchQueue(label: "reanchor.chunk-encoder")

    /// - model: a model used by nobody else (`LlamaModel(config:weights:)` over the served model's weights).
    init(model: any CausalLanguageModel) { self.model = model }

    /// The chunk's canonical K/V after `context` (`ChunkReuse.encode`).
    func encode(_ chunk: [Int], after context: [Int]) async throws -> CacheSlice {
        try await run { model in try ChunkReuse(model: model).encode(chunk: chunk, after: context) }
    }

    /// Runs `work` with the model on the encoder's queue, after the work submitted before it.
    func run<Result: Sendable>(_ work: @escaping @Sendable (any CausalLanguageModel) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Swift.Result { try work(self.model) })
            }
        }
    }
}
