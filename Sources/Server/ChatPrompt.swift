import Templates
import Tokenizers

/// A conversation rendered by the model's chat template and tokenized as transformers'
/// `apply_chat_template(..., tokenize=True)` does: the template writes the special tokens it wants (BOS
/// among them, when it emits `bos_token`), so the text is encoded without adding the tokenizer's own
/// (`addSpecialTokens: false`); BOS is never doubled, and a template without BOS (ChatML) gets none.
struct ChatPromptBuilder: Sendable {
    let template: ChatTemplate
    /// The tokenizer's `bos_token` / `eos_token` strings (from tokenizer_config.json), as the template sees them.
    let bosToken: String?
    let eosToken: String?
    let tokenizer: BPETokenizer
    /// Characters of prefix renderings tokenized to find turn boundaries; past it the scheduler's default
    /// overflow (sink tokens + oldest half) applies instead of whole turns.
    static let turnBoundaryBudget = 4_000_000

    struct Prompt: Sendable, Equatable {
        /// `[tokens]` as fed to the model.
        var tokens: [Int]
        /// Ascending offsets in `tokens` where each turn after the leading system messages starts.
        var turnStarts: [Int]
        /// The rendered conversation the tokens encode.
        var text: String
    }

    func prompt(for messages: [ChatMessage]) throws -> Prompt {
        let text = try render(messages, addGenerationPrompt: true)
        let tokens = tokenizer.encode(text, addSpecialTokens: false)
        guard !tokens.isEmpty else { throw APIError.invalid("messages", "The rendered conversation has no tokens.") }
        return Prompt(tokens: tokens, turnStarts: turnStarts(messages, tokens: tokens), text: text)
    }

    /// Where message i starts is the token length of the conversation rendered up to it: the longest common
    /// prefix of that prefix's tokens and the whole prompt's (a BPE merge across the boundary moves it back,
    /// never past the turn). Empty when a prefix cannot be rendered (a template that insists on a user
    /// message first, say) or the budget is spent.
    private func turnStarts(_ messages: [ChatMessage], tokens: [Int]) -> [Int] {
        guard let firstTurn = messages.firstIndex(where: { $0.role != "system" }) else { return [] }
        var starts: [Int] = []
        var spent = 0
        for index in firstTurn..<messages.count {
            guard let text = try? render(Array(messages[..<index]), addGenerationPrompt: false) else {
                if index == firstTurn { return [] }
                continue
            }
            spent += text.utf8.count
            guard spent <= Self.turnBoundaryBudget else { return [] }
            let prefix = tokenizer.encode(text, addSpecialTokens: false)
            var common = 0
            while common < prefix.count, common < tokens.count, prefix[common] == tokens[common] { common += 1 }
            if common < tokens.count, common > starts.last ?? -1 {
                starts.append(common)
            } else if index == firstTurn {
                return []
            }
        }
        return starts
    }

    private func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }
}
