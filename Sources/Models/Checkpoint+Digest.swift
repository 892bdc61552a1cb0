import Crypto
import Foundation

extension SafeTensorsFile {
    /// Hex SHA-256 of the whole file: header and every tensor's bytes.
    public func contentDigest() -> String {
        var hasher = SHA256()
        withBytes { bytes in
            // Chunks keep each call's length well inside what the hash implementation takes at once.
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + (64 << 20), bytes.count)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
            }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension Checkpoint {
    /// Hex SHA-256 over every shard's content digest (shard file name and digest, in file-name order): it
    /// changes when any weight byte, dtype, shape or tensor name changes. Each shard is hashed once per
    /// version of the file: digests are cached in `cache` keyed by `FileIdentity`.
    public func weightDigest(cache: WeightDigestCache = .standard) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("reanchor-weights-v1\n".utf8))
        for file in files.sorted(by: { $0.path < $1.path }) {
            let digest: String
            if let cached = cache.digest(for: file.identity) {
                digest = cached
            } else {
                digest = file.contentDigest()
                cache.store(digest, for: file.identity)
            }
            hasher.update(data: Data("\((file.path as NSString).lastPathComponent) \(digest)\n".utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
