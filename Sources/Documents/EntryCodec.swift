import Crypto
import Foundation

/// The on-disk format of one chunk entry (version 1), little-endian:
///
/// ```
/// prelude (16 bytes): magic "RNCHKV\0\1" (8) | format version u32 | header length u32
/// header (JSON, `EntryHeader`): key, namespace, fingerprint, context and token ids, creation time,
///         geometry (layers, kvHeads, headDimension; keyDimension and valueDimension when a RoPE-aligned
///         pruned model's differ from headDimension) and relative positions
/// payload: for each layer, keys f32 [count, kvHeads, keyDimension] then values f32 [count, kvHeads, valueDimension]
/// SHA-256 of every byte before it (32 bytes)
/// ```
/// So the file size is `16 + header length + layers * count * kvHeads * (keyDimension + valueDimension) * 4 + 32` exactly
/// (computed with overflow checks: `EntryRules.payloadBytes`, which refuses a product that overflows).
/// Reading (`decode`, and `EntryFile` for files) checks the prelude, then the header's fields against
/// `EntryLimits` and the model, then that the size matches what the header implies, and only then reads and
/// checksums the payload and checks that the key matches the content. A truncated, oversized, corrupt,
/// forged or mislabelled entry is rejected with a reason naming the field, never served.
enum EntryCodec {
    static let magic: [UInt8] = Array("RNCHKV".utf8) + [0, 1]
    static let version: UInt32 = 1
    /// Bytes of magic, version and header length.
    static let preludeBytes = 16
    /// Bytes of the trailing SHA-256.
    static let checksumBytes = 32

    /// The file bytes of `entry`. Payload floats are written in host order, which is little-endian on every
    /// platform Reanchor builds for (x86-64, arm64).
    static func encode(_ entry: ChunkEntry) throws -> Data {
        let geometry = entry.slice.geometry
        let header = EntryHeader(key: entry.key.hex, namespace: entry.namespace.description, fingerprint: entry.fingerprint,
                                 context: entry.context, tokens: entry.tokens, created: entry.created.timeIntervalSince1970,
                                 layers: geometry.layers, kvHeads: geometry.kvHeads, headDimension: geometry.headDimension,
                                 keyDimension: geometry.keyDimension == geometry.headDimension ? nil : geometry.keyDimension,
                                 valueDimension: geometry.valueDimension == geometry.headDimension ? nil : geometry.valueDimension,
                                 relativePositions: entry.slice.relativePositions)
        var payload = Data(capacity: entry.byteCount)
        for layer in 0..<min(geometry.layers, entry.slice.keys.count, entry.slice.values.count) {
            for tensor in [entry.slice.keys[layer], entry.slice.values[layer]] {
                tensor.withUnsafeBytes { payload.append(contentsOf: $0) }
            }
        }
        return try assemble(header: header, payload: payload)
    }

    /// Prelude, `header` as JSON, `payload`, and the checksum of all of it. Tests use it to forge entries
    /// whose checksum is right but whose content is not.
    static func assemble(header: EntryHeader, payload: Data) throws -> Data {
        let headerData = try JSONEncoder().encode(header)
        guard let headerLength = UInt32(exactly: headerData.count) else {
            throw DocumentsError.invalidEntry(reason: "header of \(headerData.count) bytes does not fit the format's u32 length")
        }
        var data = Data(magic)
        append(version, to: &data)
        append(headerLength, to: &data)
        data.append(headerData)
        data.append(payload)
        data.append(contentsOf: checksum(of: data))
        return data
    }

    /// The SHA-256 that ends an entry file, of every byte before it.
    static func checksum(of body: Data) -> [UInt8] { Array(SHA256.hash(data: body)) }

    private static func append(_ value: UInt32, to data: inout Data) {
        for shift in stride(from: 0, to: 32, by: 8) { data.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}
