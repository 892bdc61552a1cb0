extension Value {
    /// Whether this value nests deeper than `limit` lists, dicts and namespaces, or contains `namespace`
    /// itself (a namespace stored inside itself would make printing, comparing and freeing it recurse
    /// forever). Walks at most `limit` levels, so it costs little however large the value is.
    func nests(deeperThan limit: Int, orContains namespace: Namespace?) -> Bool {
        guard limit >= 0 else { return true }
        switch self {
        case .array(let items), .iterator(let items):
            return items.contains { $0.nests(deeperThan: limit - 1, orContains: namespace) }
        case .dict(let dictionary):
            return dictionary.pairs.contains { $0.1.nests(deeperThan: limit - 1, orContains: namespace) }
        case .namespace(let inner):
            if let namespace, inner === namespace { return true }
            return inner.attributes.pairs.contains { $0.1.nests(deeperThan: limit - 1, orContains: namespace) }
        default:
            return false
        }
    }
}
