import Cache
import Crypto
import Foundation

/// The on-disk format of one chunk entry (version 1), little-endian:
///
/// ```
/// magic "RNCHKV\0\1" (8 bytes) | format version u32 | header length u32 | header (JSON) |
/// payload: for each layer, keys f32 [count, kvHeads, d] then values f32 [count, kvHeads, d] |
/// SHA-256 of every byte before it (32 bytes)
/// ```
/// The header holds key, namespace, fingerprint, token ids, creation time, geometry and relative positions.
/// Reading verifies magic, version, sizes, checksum and that the key matches the content, so a truncated,
/// corrupt or mislabelled file is rejected, never served.
enum EntryCodec {
    static let magic: [UInt8] = Array("RNCHKV".utf8) + [0, 1]
    static let version: UInt32 = 1

    struct Header: Codable {
        var key: String
        var namespace: String
        var fingerprint: Fingerprint
        var context: [Int]
        var tokens: [Int]
        var created: Double
        var layers: Int
        var kvHeads: Int
        var headDimension: Int
        var relativePositions: [Int]
    }

    static func encode(_ entry: ChunkEntry) throws -> Data {
        let geometry = entry.slice.geometry
        let header = Header(key: entry.key.hex, namespace: entry.namespace.description, fingerprint: entry.fingerprint,
                            context: entry.context, tokens: entry.tokens, created: entry.created.timeIntervalSince1970, layers: geometry.layers,
                            kvHeads: geometry.kvHeads, headDimension: geometry.headDimension,
                            relativePositions: entry.slice.relativePositions)
        let headerData = try JSONEncoder().encode(header)
        var data = Data(magic)
        append(version, to: &data)
        append(UInt32(headerData.count), to: &data)
        data.append(headerData)
        for layer in 0..<geometry.layers {
            for tensor in [entry.slice.keys[layer], entry.slice.values[layer]] {
                tensor.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        data.append(contentsOf: SHA256.hash(data: data))
        return data
    }

    /// Why a file was rejected.
    struct Rejected: Error { let reason: String }

    static func decode(_ data: Data) throws -> ChunkEntry {
        guard data.count >= magic.count + 8 + 32 else { throw Rejected(reason: "truncated: \(data.count) bytes") }
        guard Array(data.prefix(magic.count)) == magic else { throw Rejected(reason: "bad magic") }
        let body = data.prefix(data.count - 32)
        guard Array(SHA256.hash(data: body)) == Array(data.suffix(32)) else { throw Rejected(reason: "checksum mismatch") }
        var offset = magic.count
        guard read(data, &offset) == version else { throw Rejected(reason: "unknown format version") }
        let headerLength = Int(read(data, &offset))
        guard headerLength <= body.count - offset else { throw Rejected(reason: "header length beyond the file") }
        let header = try JSONDecoder().decode(Header.self, from: data.subdata(in: offset..<(offset + headerLength)))
        offset += headerLength
        let count = header.relativePositions.count
        guard header.layers > 0, header.kvHeads > 0, header.headDimension > 0, count == header.tokens.count, count > 0 else {
            throw Rejected(reason: "inconsistent header")
        }
        let width = header.kvHeads * header.headDimension
        let tensorBytes = count * width * 4
        guard body.count - offset == 2 * header.layers * tensorBytes else { throw Rejected(reason: "payload size mismatch") }
        var keys: [[Float]] = []
        var values: [[Float]] = []
        for _ in 0..<header.layers {
            keys.append(floats(data, offset, count * width))
            offset += tensorBytes
            values.append(floats(data, offset, count * width))
            offset += tensorBytes
        }
        let namespace: Namespace = header.namespace == "public" ? .shared
            : try Namespace.tenant(id: String(header.namespace.dropFirst("tenant:".count)))
        let geometry = CacheGeometry(layers: header.layers, kvHeads: header.kvHeads, headDimension: header.headDimension, capacity: count)
        let entry = ChunkEntry(namespace: namespace, fingerprint: header.fingerprint, context: header.context, tokens: header.tokens,
                               slice: CacheSlice(geometry: geometry, relativePositions: header.relativePositions, keys: keys, values: values),
                               created: Date(timeIntervalSince1970: header.created))
        guard entry.key.hex == header.key else { throw Rejected(reason: "key does not match the content") }
        return entry
    }

    private static func append(_ value: UInt32, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    private static func read(_ data: Data, _ offset: inout Int) -> UInt32 {
        let bytes = data.subdata(in: offset..<(offset + 4))
        offset += 4
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    private static func floats(_ data: Data, _ offset: Int, _ count: Int) -> [Float] {
        data.subdata(in: offset..<(offset + count * 4)).withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
