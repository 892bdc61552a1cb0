import Foundation

/// SHA-256 digests of checkpoint files already hashed, keyed by `FileIdentity`, in one small JSON file
/// (`weight-digests.json` under `$XDG_CACHE_HOME/reanchor/`, else `~/.cache/reanchor/`).
///
/// Best effort: an unreadable or corrupt cache is empty, an unwritable one is not written; neither fails
/// loading a model, which then hashes its weights again.
public struct WeightDigestCache: Sendable {
    /// The JSON file, or nil for no cache at all.
    public let file: URL?
    /// Entries kept at most; beyond it, entries are dropped (in key order) on store.
    public static let capacity = 1024

    public init(file: URL?) { self.file = file }

    /// The cache under `$XDG_CACHE_HOME/reanchor/` (or `~/.cache/reanchor/`).
    public static var standard: WeightDigestCache {
        let environment = ProcessInfo.processInfo.environment
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg)
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        }
        return WeightDigestCache(file: base.appendingPathComponent("reanchor").appendingPathComponent("weight-digests.json"))
    }

    private struct Contents: Codable {
        var version = 1
        /// `FileIdentity.description` -> hex SHA-256.
        var digests: [String: String] = [:]
    }

    private func load() -> Contents {
        guard let file, let data = try? Data(contentsOf: file),
              let contents = try? JSONDecoder().decode(Contents.self, from: data), contents.version == 1 else { return Contents() }
        return contents
    }

    /// The digest stored for `identity`, if any.
    public func digest(for identity: FileIdentity) -> String? {
        guard let digest = load().digests[identity.description], digest.count == 64,
              digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return digest
    }

    /// Stores `digest` for `identity`; failures are ignored (the next load hashes again).
    public func store(_ digest: String, for identity: FileIdentity) {
        guard let file else { return }
        var contents = load()
        contents.digests[identity.description] = digest
        if contents.digests.count > Self.capacity {
            for key in contents.digests.keys.sorted().prefix(contents.digests.count - Self.capacity) where key != identity.description {
                contents.digests[key] = nil
            }
        }
        guard let data = try? JSONEncoder().encode(contents) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
