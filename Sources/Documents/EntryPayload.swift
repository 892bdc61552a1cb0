import Cache

/// Decoding an entry's payload straight into the slice's arrays, once the checksum of the whole entry matches.
/// (Checksumming on one core while decoding on the other was tried: on this 2-vCPU machine, shared with other
/// work, `DispatchQueue.concurrentPerform` gave no measurable gain, so the two run in turn.)
extension EntryCodec {
    /// The keys and values of every layer in the payload at `payloadOffset` of `bytes` (a whole entry whose size
    /// was checked against its header), once the entry's checksum matches.
    /// - Throws: `DocumentsError.invalidEntry`: the checksum mismatch, else a value or scale that is not finite.
    static func verifiedTensors(_ bytes: UnsafeRawBufferPointer, payloadOffset: Int, format: KVFormat,
                                geometry: CacheGeometry) throws -> (keys: [[Float]], values: [[Float]]) {
        guard checksumMatches(bytes) else {
            throw DocumentsError.invalidEntry(reason: "checksum mismatch: the file was altered or damaged")
        }
        return try tensors(bytes, payloadOffset: payloadOffset, format: format, geometry: geometry)
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
