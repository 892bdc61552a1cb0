import Cache
import Foundation

/// Decoding an entry's payload straight into the slice's arrays, with the checksum of the whole entry checked
/// beside it: on a second core for a large entry (SHA-256 and the widening each take a few milliseconds per
/// megabyte-sized entry, and neither needs the other), one after the other for a small one. Nothing decoded is
/// served unless the checksum matches, and a checksum mismatch is the reason given even when the payload
/// also fails to decode.
extension EntryCodec {
    /// Entries of at least this many bytes are checksummed and decoded at once on two cores.
    static let parallelVerificationBytes = 1 << 20

    /// The keys and values of every layer in the payload at `payloadOffset` of `bytes` (a whole entry whose size
    /// was checked against its header), once the entry's checksum matches.
    /// - Throws: `DocumentsError.invalidEntry`: the checksum mismatch, else a value or scale that is not finite.
    static func verifiedTensors(_ bytes: UnsafeRawBufferPointer, payloadOffset: Int, format: KVFormat,
                                geometry: CacheGeometry) throws -> (keys: [[Float]], values: [[Float]]) {
        let work = Work(bytes: bytes)
        let decode = { @Sendable in
            work.tensors = Result { try tensors(work.bytes, payloadOffset: payloadOffset, format: format, geometry: geometry) }
        }
        if bytes.count >= parallelVerificationBytes {
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                if part == 0 { work.checksumMatches = checksumMatches(work.bytes) } else { decode() }
            }
        } else {
            work.checksumMatches = checksumMatches(bytes)
            if work.checksumMatches { decode() }
        }
        guard work.checksumMatches else {
            throw DocumentsError.invalidEntry(reason: "checksum mismatch: the file was altered or damaged")
        }
        guard let tensors = work.tensors else { throw DocumentsError.invalidEntry(reason: "the payload was not decoded") }
        return try tensors.get()
    }

    /// The entry both parts of `verifiedTensors` read, and what each found. `@unchecked Sendable`: `bytes` is
    /// only read, and outlives `concurrentPerform`, which returns when both parts are done; each result is
    /// written by one part only and read after `concurrentPerform` has returned (which orders the writes
    /// before the reads).
    private final class Work: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        var checksumMatches = false
        var tensors: Result<(keys: [[Float]], values: [[Float]]), Error>? = nil

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    }

    /// Per layer, keys `[count, kvHeads, keyDimension]` then values, decoded from `format`.
    private static func tensors(_ bytes: UnsafeRawBufferPointer, payloadOffset: Int, format: KVFormat,
                                geometry: CacheGeometry) throws -> (keys: [[Float]], values: [[Float]]) {
        // Within the payload size the header implied, which did not overflow.
        let rows = geometry.capacity * geometry.kvHeads
        let tensors = [(name: "keys", columns: geometry.keyDimension), (name: "values", columns: geometry.valueDimension)]
            .map { ($0.name, $0.columns, format.tensorBytes(rows: rows, columns: $0.columns) ?? 0) }
        var offset = payloadOffset
        var keys: [[Float]] = []
        var values: [[Float]] = []
        keys.reserveCapacity(geometry.layers)
        values.reserveCapacity(geometry.layers)
        for layer in 0..<geometry.layers {
            for (name, columns, tensorBytes) in tensors {
                let stored = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + tensorBytes)])
                let decoded: [Float]
                do throws(KVFormatRefusal) {
                    decoded = try format.decode(stored, rows: rows, columns: columns)
                } catch {
                    throw DocumentsError.invalidEntry(reason: error.reason("\(name) of layer \(layer)"))
                }
                if name == "keys" { keys.append(decoded) } else { values.append(decoded) }
                offset += tensorBytes
            }
        }
        return (keys, values)
    }
}
