import Crypto
import Foundation

/// What must match for a cached chunk to be valid: the model (architecture, shapes, RoPE, dtype, and a
/// hash of its weights) and the tokenizer. Different fingerprints can never share an entry.
public struct Fingerprint: Sendable, Hashable, Codable {
    /// Hex SHA-256 over the model's description and weights.
    public let model: String
    /// Hex SHA-256 of the tokenizer definition.
    public let tokenizer: String

    public init(model: String, tokenizer: String) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Hashes `description` (architecture, shapes, RoPE parameters, dtype) with `weights` (e.g. the
    /// safetensors headers, which carry every tensor's name, shape, dtype and offsets) and `tokenizer` bytes.
    public init(modelDescription: String, weights: [Data], tokenizer tokenizerDefinition: Data) {
        var hasher = SHA256()
        hasher.update(data: Data(modelDescription.utf8))
        for part in weights { hasher.update(data: part) }
        model = Self.hex(hasher.finalize())
        tokenizer = Self.hex(SHA256.hash(data: tokenizerDefinition))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The content address of a chunk: SHA-256 of fingerprint, namespace, the tokens the chunk was encoded
/// after (its context: BOS and system prompt, which its K/V depend on) and its token ids.
public struct ChunkKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public let hex: String

    public init(fingerprint: Fingerprint, namespace: Namespace, context: [Int] = [], tokens: [Int]) {
        var hasher = SHA256()
        hasher.update(data: Data("reanchor-chunk-v1\n\(fingerprint.model)\n\(fingerprint.tokenizer)\n\(namespace)\n".utf8))
        for (marker, list) in [(Int64(-1), context), (Int64(-2), tokens)] {
            var littleEndian = ([marker, Int64(list.count)] + list.map { Int64($0) }).map { $0.littleEndian }
            littleEndian.withUnsafeMutableBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        hex = Fingerprint.hex(hasher.finalize())
    }

    init(hex: String) { self.hex = hex }

    public var description: String { String(hex.prefix(16)) }
}
