import Cache
import Foundation

/// Reading an entry, in the order that never trusts a size before checking it: prelude, header fields,
/// file size against the size the header implies, checksum, payload, key.
extension EntryCodec {
    /// The header length the 16-byte `prelude` states, checked against a file of `fileBytes` bytes.
    /// - Throws: `DocumentsError.invalidEntry` for a short file, bad magic, unknown version or a header
    ///   length beyond the file or `limits`.
    static func headerLength(prelude: Data, fileBytes: Int, limits: EntryLimits) throws -> Int {
        guard fileBytes >= preludeBytes + checksumBytes, prelude.count >= preludeBytes else {
            throw DocumentsError.invalidEntry(reason: "truncated: \(fileBytes) bytes, fewer than the \(preludeBytes + checksumBytes) "
                                              + "of prelude and checksum")
        }
        guard prelude.prefix(magic.count).elementsEqual(magic) else {
            throw DocumentsError.invalidEntry(reason: "bad magic: not a Reanchor library entry")
        }
        let version = uint32(prelude.dropFirst(8).prefix(4))
        guard version == Self.version else {
            throw DocumentsError.invalidEntry(reason: "format version \(version), this build reads \(Self.version)")
        }
        let length = Int(uint32(prelude.dropFirst(12).prefix(4)))
        guard length <= limits.maximumHeaderBytes else {
            throw DocumentsError.invalidEntry(reason: "header length \(length) bytes is above the maximum \(limits.maximumHeaderBytes)")
        }
        // fileBytes >= preludeBytes + checksumBytes was checked above, so the subtraction cannot go negative.
        guard length <= fileBytes - preludeBytes - checksumBytes else {
            throw DocumentsError.invalidEntry(reason: "header length \(length) bytes runs past the end of the \(fileBytes)-byte file")
        }
        return length
    }

    /// The header parsed from its JSON bytes and checked, with the payload size it implies.
    static func header(_ bytes: Data, limits: EntryLimits, model: ModelGeometry?) throws -> (header: EntryHeader, payloadBytes: Int) {
        let header: EntryHeader
        do {
            header = try JSONDecoder().decode(EntryHeader.self, from: bytes)
        } catch let error as DecodingError {
            throw DocumentsError.invalidEntry(reason: "header: " + describe(error))
        } catch {
            throw DocumentsError.invalidEntry(reason: "header is not valid JSON")
        }
        return (header, try header.payloadBytes(limits: limits, model: model))
    }

    /// The file size a header of `headerLength` bytes describing `payloadBytes` implies, or nil on overflow.
    static func fileBytes(headerLength: Int, payloadBytes: Int) -> Int? {
        checkedSum(preludeBytes, headerLength, payloadBytes, checksumBytes)
    }

    /// The entry in `data`, a whole entry file.
    /// - model: the library's model geometry; an entry of another geometry is rejected. Nil checks only `limits`.
    /// - Throws: `DocumentsError.invalidEntry` with the reason, naming the field where there is one.
    static func decode(_ data: Data, limits: EntryLimits = .standard, model: ModelGeometry? = nil) throws -> ChunkEntry {
        let headerLength = try headerLength(prelude: data.prefix(preludeBytes), fileBytes: data.count, limits: limits)
        let (header, payloadBytes) = try header(data.dropFirst(preludeBytes).prefix(headerLength), limits: limits, model: model)
        guard let expected = fileBytes(headerLength: headerLength, payloadBytes: payloadBytes), expected == data.count else {
            throw DocumentsError.invalidEntry(reason: "size mismatch: the file has \(data.count) bytes, its header implies "
                                              + "\(fileBytes(headerLength: headerLength, payloadBytes: payloadBytes).map(String.init) ?? "more than Int.max")")
        }
        let body = data.prefix(data.count - checksumBytes)
        guard checksum(of: body).elementsEqual(data.suffix(checksumBytes)) else {
            throw DocumentsError.invalidEntry(reason: "checksum mismatch: the file was altered or damaged")
        }
        let namespace = try namespace(header.namespace)
        let count = header.tokens.count
        let geometry = CacheGeometry(layers: header.layers, kvHeads: header.kvHeads, headDimension: header.headDimension,
                                     keyDimension: header.keyDimension, valueDimension: header.valueDimension, capacity: count)
        // Within payloadBytes, which did not overflow: one layer's keys and values.
        let keyBytes = count * geometry.keyWidth * MemoryLayout<Float>.size
        let valueBytes = count * geometry.valueWidth * MemoryLayout<Float>.size
        var payload = data.dropFirst(preludeBytes + headerLength).prefix(payloadBytes)
        var keys: [[Float]] = []
        var values: [[Float]] = []
        for layer in 0..<header.layers {
            keys.append(try floats(payload.prefix(keyBytes), layer: layer, tensor: "keys"))
            payload = payload.dropFirst(keyBytes)
            values.append(try floats(payload.prefix(valueBytes), layer: layer, tensor: "values"))
            payload = payload.dropFirst(valueBytes)
        }
        let entry = ChunkEntry(namespace: namespace, fingerprint: header.fingerprint, context: header.context, tokens: header.tokens,
                               slice: CacheSlice(geometry: geometry, relativePositions: header.relativePositions, keys: keys, values: values),
                               created: Date(timeIntervalSince1970: header.created))
        guard entry.key.hex == header.key else {
            throw DocumentsError.invalidEntry(reason: "header field key \(quoted(header.key)) does not match the content (\(entry.key.hex))")
        }
        return entry
    }

    private static func namespace(_ text: String) throws -> Namespace {
        do {
            return try Namespace.parse(text)
        } catch let error as DocumentsError {
            if case .invalidEntry = error { throw error }
            throw DocumentsError.invalidEntry(reason: "header field namespace: \(error)")
        }
    }

    /// Little-endian f32 values of `bytes` (a whole number of floats), rejecting NaN and infinity, which
    /// would poison every attention score that reads them.
    private static func floats(_ bytes: Data, layer: Int, tensor: String) throws -> [Float] {
        let count = bytes.count / MemoryLayout<Float>.size
        let result = bytes.withUnsafeBytes { raw in
            // safe: every offset i * 4 + 4 <= count * 4 <= raw.count.
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        if let index = result.firstIndex(where: { !$0.isFinite }) {
            throw DocumentsError.invalidEntry(reason: "payload \(tensor) of layer \(layer) holds \(result[index]) at float \(index)")
        }
        return result
    }

    /// The little-endian u32 in `bytes` (4 bytes).
    private static func uint32(_ bytes: Data) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A decoding error as a short reason naming the field.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "" : "field \(path.dropFirst(path.hasPrefix(".") ? 1 : 0)): "
        }
        switch error {
        case .keyNotFound(let key, let context): return path(context) + "missing field \(key.stringValue)"
        case .typeMismatch(let type, let context): return path(context) + "expected \(type)"
        case .valueNotFound(let type, let context): return path(context) + "expected \(type), found null"
        case .dataCorrupted(let context): return path(context) + "not valid JSON or out of range (\(context.debugDescription.prefix(120)))"
        @unknown default: return "not a valid header"
        }
    }
}
