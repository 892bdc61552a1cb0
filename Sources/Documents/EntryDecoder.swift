import Cache
import Crypto
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
        let version = version(prelude)
        guard readableVersions.contains(version) else {
            throw DocumentsError.invalidEntry(reason: "format version \(version), this build reads \(readableVersions.lowerBound)"
                                              + "-\(readableVersions.upperBound)")
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

    /// The format version a prelude states (checked by `headerLength`).
    static func version(_ prelude: Data) -> UInt32 { uint32(prelude.dropFirst(8).prefix(4)) }

    /// The header parsed from its JSON bytes and checked (against the entry's format `version` too), with the
    /// payload size it implies.
    static func header(_ bytes: Data, version: UInt32, limits: EntryLimits, model: ModelGeometry?) throws
        -> (header: EntryHeader, payloadBytes: Int) {
        let header: EntryHeader
        do {
            header = try JSONDecoder().decode(EntryHeader.self, from: bytes)
        } catch let error as DecodingError {
            throw DocumentsError.invalidEntry(reason: "header: " + describe(error))
        } catch {
            throw DocumentsError.invalidEntry(reason: "header is not valid JSON")
        }
        if version == 1, let kv = header.kv {
            throw DocumentsError.invalidEntry(reason: "header field kv is \(kv) in a format version 1 entry (f32 only)")
        }
        if version >= 2, header.kv == nil {
            throw DocumentsError.invalidEntry(reason: "header field kv is missing (format version \(version) names its K/V format: "
                                              + KVFormat.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        return (header, try header.payloadBytes(limits: limits, model: model))
    }

    /// Whether the last 32 bytes of `bytes` are the SHA-256 of the bytes before them.
    static func checksumMatches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= checksumBytes else { return false }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - checksumBytes)])
        return SHA256.hash(data: body).elementsEqual(bytes[(bytes.count - checksumBytes)...])
    }

    /// The file size a header of `headerLength` bytes describing `payloadBytes` implies, or nil on overflow.
    static func fileBytes(headerLength: Int, payloadBytes: Int) -> Int? {
        checkedSum(preludeBytes, headerLength, payloadBytes, checksumBytes)
    }

    /// The entry in `data`, a whole entry file.
    /// - model: the library's model geometry; an entry of another geometry is rejected. Nil checks only `limits`.
    /// - Throws: `DocumentsError.invalidEntry` with the reason, naming the field where there is one.
    static func decode(_ data: Data, limits: EntryLimits = .standard, model: ModelGeometry? = nil) throws -> ChunkEntry {
        try data.withUnsafeBytes { try decode(bytes: $0, limits: limits, model: model) }
    }

    /// The entry in `bytes`, a whole entry (a file's contents or a remote value, read in place: the K/V are
    /// decoded straight into the slice's arrays).
    static func decode(bytes: UnsafeRawBufferPointer, limits: EntryLimits = .standard, model: ModelGeometry? = nil) throws -> ChunkEntry {
        let prelude = Data(bytes.prefix(preludeBytes))
        let headerLength = try headerLength(prelude: prelude, fileBytes: bytes.count, limits: limits)
        let headerBytes = Data(bytes[preludeBytes..<(preludeBytes + headerLength)])
        let (header, payloadBytes) = try header(headerBytes, version: version(prelude), limits: limits, model: model)
        guard let expected = fileBytes(headerLength: headerLength, payloadBytes: payloadBytes), expected == bytes.count else {
            throw DocumentsError.invalidEntry(reason: "size mismatch: the file has \(bytes.count) bytes, its header implies "
                                              + "\(fileBytes(headerLength: headerLength, payloadBytes: payloadBytes).map(String.init) ?? "more than Int.max")")
        }
        let count = header.tokens.count
        let geometry = CacheGeometry(layers: header.layers, kvHeads: header.kvHeads, headDimension: header.headDimension,
                                     keyDimension: header.keyDimension, valueDimension: header.valueDimension, capacity: count)
        let (keys, values) = try verifiedTensors(bytes, payloadOffset: preludeBytes + headerLength, format: header.format,
                                                 geometry: geometry)
        let namespace = try namespace(header.namespace)
        let entry = ChunkEntry(namespace: namespace, fingerprint: header.fingerprint, context: header.context, tokens: header.tokens,
                               slice: CacheSlice(geometry: geometry, relativePositions: header.relativePositions, keys: keys, values: values),
                               exactIn: header.format, created: Date(timeIntervalSince1970: header.created))
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
