import Cache
import Foundation

/// One cached chunk: canonical keys and values of every layer for its tokens, plus what proves it valid.
public struct ChunkEntry: Sendable, Equatable {
    public let key: ChunkKey
    public let namespace: Namespace
    public let fingerprint: Fingerprint
    /// Tokens the chunk was encoded after (BOS, system prompt): its K/V depend on them.
    public let context: [Int]
    public let tokens: [Int]
    public let created: Date
    /// Canonical K and V per layer, positions relative to the chunk start.
    public let slice: CacheSlice

    public init(namespace: Namespace, fingerprint: Fingerprint, context: [Int] = [], tokens: [Int], slice: CacheSlice,
                created: Date = Date()) {
        self.key = ChunkKey(fingerprint: fingerprint, namespace: namespace, context: context, tokens: tokens)
        self.namespace = namespace
        self.fingerprint = fingerprint
        self.context = context
        self.tokens = tokens
        self.created = created
        self.slice = slice
    }

    /// Bytes of K/V held.
    public var byteCount: Int { slice.byteCount }
}
