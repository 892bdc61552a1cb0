import Foundation
@testable import Server
import Templates
import Testing
import Tokenizers

/// Chat prompts: the template decides the special tokens (BOS once, or none), and turn starts are where each
/// message after the system prompt begins in the token ids.
struct ChatPromptTests {
    static let tokenizer: BPETokenizer? = try? BPETokenizer(contentsOf: ServerHarness.modelDirectory.appendingPathComponent("tokenizer.json"))
    static let conversation: [ChatMessage] = [
        .system("You tell stories of the sea."), .user("Who was the captain?"), .assistant("A tall man named Ahab."),
        .user("What did he hunt?"),
    ]

    func builder(_ template: ChatTemplate) throws -> ChatPromptBuilder {
        ChatPromptBuilder(template: template, bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>",
                          tokenizer: try #require(Self.tokenizer))
    }

    @Test func plainTemplateHasOneBOSAndTurnStartsAtEachMessage() throws {
        let builder = try builder(ChatTemplate.plain)
        let tokenizer = try #require(Self.tokenizer)
        let bos = try #require(tokenizer.id(of: "<|begin_of_text|>"))
        let prompt = try builder.prompt(for: Self.conversation)
        #expect(prompt.tokens.first == bos)
        #expect(prompt.tokens.filter { $0 == bos }.count == 1, "the template writes BOS; encoding adds none")
        #expect(prompt.turnStarts.count == 3)
        #expect(prompt.turnStarts == prompt.turnStarts.sorted() && Set(prompt.turnStarts).count == 3)
        for (index, start) in prompt.turnStarts.enumerated() {
            let prefix = try ChatTemplate.plain.render(messages: Array(Self.conversation[..<(index + 1)]), addGenerationPrompt: false,
                                                       bosToken: "<|begin_of_text|>")
            let prefixTokens = tokenizer.encode(prefix, addSpecialTokens: false)
            #expect(Array(prompt.tokens[..<start]) == Array(prefixTokens[..<start]))
            #expect(start <= prefixTokens.count && prefixTokens.count - start <= 1, "a merge across the boundary moves it back by one token at most")
            // The turn itself starts right there: the role name of message index + 1.
            let turnText = tokenizer.decode(Array(prompt.tokens[start...]))
            #expect(turnText.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(Self.conversation[index + 1].role.capitalized))
        }
    }

    @Test func chatMLTemplateGetsNoBOS() throws {
        let chatML = try ChatTemplate(source: """
            {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
            """, name: "chatml")
        let builder = try builder(chatML)
        let tokenizer = try #require(Self.tokenizer)
        let prompt = try builder.prompt(for: Self.conversation)
        #expect(!prompt.tokens.contains(try #require(tokenizer.id(of: "<|begin_of_text|>"))))
        #expect(prompt.turnStarts.count == 3)
        #expect(tokenizer.decode(Array(prompt.tokens[prompt.turnStarts[0]...])).hasPrefix("<|im_start|>user"))
    }

    @Test func noSystemMessageKeepsOnlyWhatPrecedesTheFirstTurn() throws {
        let prompt = try builder(ChatTemplate.plain).prompt(for: [.user("Hello there."), .assistant("Hi."), .user("Again.")])
        #expect(prompt.turnStarts.first == 1, "BOS is kept; every message is a turn")
        #expect(prompt.turnStarts.count == 3)
    }

    @Test func aTemplateThatRefusesTheConversationIsA400() throws {
        let strict = try ChatTemplate(source: "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}ok",
                                      name: "strict")
        #expect { try builder(strict).prompt(for: [.assistant("Hi.")]) } throws: { error in
            let apiError = ErrorMapping.apiError(error, promptField: "messages")
            return apiError.status == .badRequest && apiError.param == "messages" && apiError.message.contains("first message must be from the user")
        }
    }
}
