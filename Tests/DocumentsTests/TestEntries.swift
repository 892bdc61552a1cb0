import Cache
import Foundation
@testable import Documents

/// Entries, geometries and directories the Documents tests make for themselves.
enum TestEntries {
    static let fingerprint = Fingerprint(model: "model-a", tokenizer: "tokenizer-a")
    /// The geometry of every slice below: 2 layers, 2 kv heads of 4.
    static let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 4, capacity: 1)

    static var model: ModelGeometry {
        get throws { try ModelGeometry(geometry) }
    }

    /// A chunk's K/V for `count` tokens, with values that depend on `seed`, layer and index.
    static func slice(count: Int, seed: Float = 1) -> CacheSlice {
        let geometry = CacheGeometry(layers: 2, kvHeads: 2, headDimension: 4, capacity: count)
        let width = geometry.keyWidth
        return CacheSlice(geometry: geometry, relativePositions: Array(0..<count),
                          keys: (0..<2).map { layer in (0..<(count * width)).map { Float($0 + layer) * seed } },
                          values: (0..<2).map { layer in (0..<(count * width)).map { Float($0 - layer) * seed * 0.5 } })
    }

    static func entry(tokens: [Int], context: [Int] = [], namespace: Namespace = .shared, seed: Float = 1) -> ChunkEntry {
        ChunkEntry(namespace: namespace, fingerprint: fingerprint, context: context, tokens: tokens,
                   slice: slice(count: tokens.count, seed: seed), created: Date(timeIntervalSince1970: 1_700_000_000))
    }

    /// A fresh directory path under the temporary directory (not created).
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-docs-\(UUID().uuidString)")
    }

    /// The header and payload of `data`, a valid entry file.
    static func parts(of data: Data) throws -> (header: EntryHeader, payload: Data) {
        let headerLength = try EntryCodec.headerLength(prelude: data.prefix(EntryCodec.preludeBytes), fileBytes: data.count,
                                                       limits: .standard)
        let header = try JSONDecoder().decode(EntryHeader.self, from: data.dropFirst(EntryCodec.preludeBytes).prefix(headerLength))
        let payload = data.dropFirst(EntryCodec.preludeBytes + headerLength).dropLast(EntryCodec.checksumBytes)
        return (header, Data(payload))
    }

    /// `entry` encoded with its header changed by `change` (and the payload by `payload`), then the key and
    /// checksum recomputed: a forgery only the entry rules can catch.
    static func forge(_ entry: ChunkEntry, payload changePayload: (inout Data) -> Void = { _ in },
                      _ change: (inout EntryHeader) -> Void) throws -> Data {
        var (header, payload) = try parts(of: EntryCodec.encode(entry))
        change(&header)
        changePayload(&payload)
        header.key = ChunkKey(fingerprint: header.fingerprint, namespace: try Namespace.parse(header.namespace),
                              context: header.context, tokens: header.tokens).hex
        return try EntryCodec.assemble(header: header, payload: payload)
    }

    /// The committed fuzz regression inputs (`Fixtures/entry`), by file name.
    static func fuzzFixtures() throws -> [(name: String, data: Data)] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/entry")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { ($0.lastPathComponent, try Data(contentsOf: $0)) }
    }
}

extension DocumentsError {
    /// The reason of an `invalidEntry`, or nil.
    var entryReason: String? {
        if case .invalidEntry(let reason) = self { return reason }
        return nil
    }
}

/// The reason `EntryCodec.decode` gives for `data`, or nil when it decodes.
func rejection(_ data: Data, model: ModelGeometry? = nil, limits: EntryLimits = .standard) -> String? {
    do {
        _ = try EntryCodec.decode(data, limits: limits, model: model)
        return nil
    } catch let error as DocumentsError {
        return error.entryReason ?? "\(error)"
    } catch {
        return "unexpected \(error)"
    }
}
