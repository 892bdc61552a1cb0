import Crypto
import Foundation

/// What must match for a cached chunk to be valid: the model (its full config and a hash of every weight
/// byte) and the tokenizer. Different fingerprints can never share an entry.
public struct Fingerprint: Sendable, Hashable, Codable {
    /// Hex SHA-256 over the model's canonical config text and the digest of its weight files.
    public let model: String
    /// Hex SHA-256 of the tokenizer definition (the bytes of tokenizer.json).
    public let tokenizer: String

    public init(model: String, tokenizer: String) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// - modelDescription: canonical text of every config field (architecture, shapes, RoPE parameters,
    ///   sliding window, token ids: `ModelConfig.canonicalDescription`) and the stored dtype.
    /// - weightDigest: hex SHA-256 over the bytes of every weight file (`Checkpoint.weightDigest`).
    /// - tokenizer: the tokenizer definition, hashed as stored (tokenizer.json bytes: re-serialising a
    ///   multi-megabyte vocabulary canonically took seconds per load; a byte-level difference can only cause
    ///   a miss, never a wrong hit).
    public init(modelDescription: String, weightDigest: String, tokenizer tokenizerDefinition: Data) {
        var hasher = SHA256()
        hasher.update(data: Data("reanchor-model-v2\n\(modelDescription)\nweights=\(weightDigest)\n".utf8))
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
    /// `Namespace.digest` of the chunk's namespace: the remote tier files the entry under it.
    public let namespaceDigest: String

    public init(fingerprint: Fingerprint, namespace: Namespace, context: [Int] = [], tokens: [Int]) {
        var hasher = SHA256()
        hasher.update(data: Data("reanchor-chunk-v1\n\(fingerprint.model)\n\(fingerprint.tokenizer)\n\(namespace)\n".utf8))
        for (marker, list) in [(Int64(-1), context), (Int64(-2), tokens)] {
            var littleEndian = ([marker, Int64(list.count)] + list.map { Int64($0) }).map { $0.littleEndian }
            littleEndian.withUnsafeMutableBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        hex = Fingerprint.hex(hasher.finalize())
        namespaceDigest = namespace.digest
    }

    public var description: String { String(hex.prefix(16)) }
}
