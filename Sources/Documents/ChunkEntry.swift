import Cache
import Foundation

/// One cached chunk: canonical keys and values of every layer for its tokens, plus what proves it valid.
public struct ChunkEntry: Sendable, Equatable {
    public let key: ChunkKey
    public let namespace: Namespace
    public let fingerprint: Fingerprint
    public let tokens: [Int]
    public let created: Date
    /// Canonical K and V per layer, positions relative to the chunk start.
    public let slice: CacheSlice

    public init(namespace: Namespace, fingerprint: Fingerprint, tokens: [Int], slice: CacheSlice, created: Date = Date()) {
        self.key = ChunkKey(fingerprint: fingerprint, namespace: namespace, tokens: tokens)
        self.namespace = namespace
        self.fingerprint = fingerprint
        self.tokens = tokens
        self.created = created
        self.slice = slice
    }

    /// Bytes of K/V held.
    public var byteCount: Int { slice.byteCount }
}
