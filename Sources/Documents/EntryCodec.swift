import Crypto
import Foundation

/// The on-disk (and in-Redis) format of one chunk entry, version 2, little-endian:
///
/// ```
/// prelude (16 bytes): magic "RNCHKV\0\1" (8) | format version u32 | header length u32
/// header (JSON, `EntryHeader`): key, namespace, fingerprint, context and token ids, creation time,
///         geometry (layers, kvHeads, headDimension; keyDimension and valueDimension when a RoPE-aligned
///         pruned model's differ from headDimension), relative positions, and `kv`: the payload's `KVFormat`
/// payload: for each layer, keys [count, kvHeads, keyDimension] then values [count, kvHeads, valueDimension],
///          each as `count * kvHeads` rows in `kv` (f32, bf16, f16: the values; q8: per row, blocks of an f32
///          scale and 32 int8)
/// SHA-256 of every byte before it (32 bytes)
/// ```
/// So the file size is `16 + header length + layers * (keys + values bytes in kv) + 32` exactly (computed with
/// overflow checks: `EntryRules.payloadBytes`, which refuses a product that overflows). Version 1 (written
/// before compact entries) is the same without `kv`, its payload f32; it is still read.
/// Reading (`decode`, and `EntryFile` for files) checks the prelude, then the header's fields against
/// `EntryLimits` and the model, then that the size matches what the header implies, and only then reads and
/// checksums the payload and checks that the key matches the content. A truncated, oversized, corrupt,
/// forged or mislabelled entry is rejected with a reason naming the field, never served.
enum EntryCodec {
    static let magic: [UInt8] = Array("RNCHKV".utf8) + [0, 1]
    /// The version this build writes.
    static let version: UInt32 = 2
    /// The versions this build reads.
    static let readableVersions: ClosedRange<UInt32> = 1...2
    /// Bytes of magic, version and header length.
    static let preludeBytes = 16
    /// Bytes of the trailing SHA-256.
    static let checksumBytes = 32

    /// Headers are written with sorted keys, so an entry always has the same bytes (and writers in other
    /// languages can produce them: scripts/fuzz/entry/make_seeds.py).
    static var headerEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    /// The header describing `entry`.
    static func header(of entry: ChunkEntry) -> EntryHeader {
        let geometry = entry.slice.geometry
        return EntryHeader(key: entry.key.hex, namespace: entry.namespace.description, fingerprint: entry.fingerprint,
                           context: entry.context, tokens: entry.tokens, created: entry.created.timeIntervalSince1970,
                           layers: geometry.layers, kvHeads: geometry.kvHeads, headDimension: geometry.headDimension,
                           keyDimension: geometry.keyDimension == geometry.headDimension ? nil : geometry.keyDimension,
                           valueDimension: geometry.valueDimension == geometry.headDimension ? nil : geometry.valueDimension,
                           relativePositions: entry.slice.relativePositions, kv: entry.format)
    }

    /// The file bytes of `entry`, its K/V in `entry.format`. Values are written in host order, which is
    /// little-endian on every platform Reanchor builds for (x86-64, arm64).
    /// - Throws: `DocumentsError.invalidEntry` when the slice's tensors do not have the sizes of its geometry.
    static func encode(_ entry: ChunkEntry) throws -> Data {
        let (headerData, total) = try layout(entry)
        var data = Data(count: total)
        try data.withUnsafeMutableBytes { try write(entry, header: headerData, into: $0) }
        return data
    }

    /// The header's JSON and the whole entry's size in bytes.
    static func layout(_ entry: ChunkEntry) throws -> (header: Data, bytes: Int) {
        let geometry = entry.slice.geometry
        let headerData = try headerEncoder.encode(header(of: entry))
        guard let payload = EntryRules.payloadBytes(layers: geometry.layers, count: entry.slice.count, kvHeads: geometry.kvHeads,
                                                    keyDimension: geometry.keyDimension, valueDimension: geometry.valueDimension,
                                                    format: entry.format),
              let total = fileBytes(headerLength: headerData.count, payloadBytes: payload) else {
            throw DocumentsError.invalidEntry(reason: "the entry's payload size overflows")
        }
        return (headerData, total)
    }

    /// Writes `entry` (prelude, `header`, payload, checksum) into the first `layout(entry).bytes` bytes of `output`.
    static func write(_ entry: ChunkEntry, header headerData: Data, into output: UnsafeMutableRawBufferPointer) throws {
        let geometry = entry.slice.geometry
        let rows = entry.slice.count * geometry.kvHeads  // bounded by the payload size `layout` computed
        guard let headerLength = UInt32(exactly: headerData.count) else {
            throw DocumentsError.invalidEntry(reason: "header of \(headerData.count) bytes does not fit the format's u32 length")
        }
        guard entry.slice.keys.count == geometry.layers, entry.slice.values.count == geometry.layers,
              entry.slice.keys.allSatisfy({ $0.count == rows * geometry.keyDimension }),
              entry.slice.values.allSatisfy({ $0.count == rows * geometry.valueDimension }),
              let keyBytes = entry.format.tensorBytes(rows: rows, columns: geometry.keyDimension),
              let valueBytes = entry.format.tensorBytes(rows: rows, columns: geometry.valueDimension),
              let total = EntryRules.payloadBytes(layers: geometry.layers, count: entry.slice.count, kvHeads: geometry.kvHeads,
                                                  keyDimension: geometry.keyDimension, valueDimension: geometry.valueDimension,
                                                  format: entry.format)
                .flatMap({ fileBytes(headerLength: headerData.count, payloadBytes: $0) }),
              let base = output.baseAddress, output.count >= total else {
            throw DocumentsError.invalidEntry(reason: "the slice's tensors do not have the sizes of its geometry")
        }
        var offset = 0
        func put(_ bytes: UnsafeRawBufferPointer) {
            if let source = bytes.baseAddress { (base + offset).copyMemory(from: source, byteCount: bytes.count) }
            offset += bytes.count
        }
        magic.withUnsafeBytes(put)
        withUnsafeBytes(of: version.littleEndian, put)
        withUnsafeBytes(of: headerLength.littleEndian, put)
        headerData.withUnsafeBytes(put)
        for layer in 0..<geometry.layers {
            for (tensor, columns, bytes) in [(entry.slice.keys[layer], geometry.keyDimension, keyBytes),
                                             (entry.slice.values[layer], geometry.valueDimension, valueBytes)] {
                guard tensor.withUnsafeBufferPointer({ entry.format.encode($0, columns: columns, into: base + offset) }) else {
                    throw DocumentsError.invalidEntry(reason: "layer \(layer) holds a value \(entry.format) cannot store")
                }
                offset += bytes
            }
        }
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: output[0..<offset]))
        digest.withUnsafeBytes(put)
    }

    /// Prelude, `header` as JSON, `payload`, and the checksum of all of it, with the version the header implies
    /// (1 without `kv`). Tests use it to forge entries whose checksum is right but whose content is not.
    static func assemble(header: EntryHeader, payload: Data) throws -> Data {
        let headerData = try headerEncoder.encode(header)
        guard let headerLength = UInt32(exactly: headerData.count) else {
            throw DocumentsError.invalidEntry(reason: "header of \(headerData.count) bytes does not fit the format's u32 length")
        }
        var data = Data(magic)
        append(header.kv == nil ? 1 : version, to: &data)
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
