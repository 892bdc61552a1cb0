import Engine

/// A request's prompt as the scheduler gets it, and, when it can reuse library chunks (`reanchor.documents`,
/// or transparent reuse of pasted passages), its layout as prefix / chunks / query.
struct PromptPlan: Sendable {
    /// Token ids as fed to the model (`layout.tokens` when there is a layout).
    var tokens: [Int]
    /// Turn offsets in `tokens` (chat overflow drops whole turns); empty for segmented prompts, whose turns
    /// do not line up with the whole-text encoding (overflow then keeps the sinks and drops the oldest half).
    var turnStarts: [Int]
    var layout: RAGPrompt?
    /// The chunks are documents the request named (`reanchor.documents`): composed however short.
    var documents = false

    init(tokens: [Int], turnStarts: [Int] = []) {
        self.tokens = tokens
        self.turnStarts = turnStarts
    }

    init(layout: RAGPrompt, turnStarts: [Int] = []) {
        tokens = layout.tokens
        self.turnStarts = turnStarts
        self.layout = layout
    }

    /// The most documents a request may reference.
    static let maximumDocuments = 64

    /// The plan with the documents' chunks placed after the first `prefixLength` tokens (the system prompt
    /// of a chat, BOS of a completion), in the order given; the rest of the prompt is the query. Another
    /// tenant's private document is the same 404 as one that never existed.
    func placing(documents ids: [String], after prefixLength: Int, service: DocumentService, tenant: Tenant) async throws -> PromptPlan {
        guard ids.count <= Self.maximumDocuments else {
            throw APIError.invalid("reanchor.documents", "'reanchor.documents' holds at most \(Self.maximumDocuments) ids, found \(ids.count).")
        }
        var chunks: [[Int]] = []
        for id in ids { chunks += try await service.visibleRecord(id: id, tenant: tenant).chunks.map(\.tokens) }
        let cut = min(max(prefixLength, 0), tokens.count - 1)
        let layout = RAGPrompt(prefix: Array(tokens[..<cut]), chunks: chunks, query: Array(tokens[cut...]))
        let shift = layout.chunkTokenCount
        var plan = PromptPlan(layout: layout, turnStarts: turnStarts.filter { $0 >= cut }.map { $0 + shift })
        plan.documents = true
        return plan
    }
}
