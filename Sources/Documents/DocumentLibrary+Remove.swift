extension DocumentLibrary {
    /// Removes the entry for `tokens` after `context` stored under exactly `namespace` from every tier
    /// (memory and disk); other namespaces' entries of the same tokens stay.
    public func remove(tokens: [Int], context: [Int] = [], namespace: Namespace) async {
        let key = ChunkKey(fingerprint: fingerprint, namespace: namespace, context: context, tokens: tokens)
        await memory.remove(key)
        await disk?.remove(key)
    }

    /// The entry stored under exactly `namespace` (not its search order), or nil: whether this namespace
    /// already holds the chunk.
    public func entry(tokens: [Int], context: [Int] = [], exactly namespace: Namespace) async -> ChunkEntry? {
        let key = ChunkKey(fingerprint: fingerprint, namespace: namespace, context: context, tokens: tokens)
        if let entry = await memory.entry(for: key) { return entry }
        if let disk, let entry = await disk.entry(for: key) {
            await memory.store(entry)
            return entry
        }
        return nil
    }
}
