import Documents

extension Tenant {
    /// The library namespace of this tenant, derived on the server from the authenticated key: a client never
    /// names or guesses it. Tenant names are checked when the keys are loaded (`APIKeys`), so this only
    /// fails for a name that bypassed that check.
    func namespace() throws -> Namespace {
        do {
            return try Namespace.tenant(id: name)
        } catch {
            throw APIError.internalError("tenant '\(name.prefix(64))' has no valid namespace: \(error)")
        }
    }
}
