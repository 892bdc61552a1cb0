import Bench
import Documents
import Engine
import Foundation
import Server
import Templates

/// The chats of `bench rag-serve`: per question, a system prompt and a user message that pastes the passages
/// (title line and text, separated by blank lines) in a given order, then asks the question.
struct RAGServeWorkload {
    let questions: [RAGQuestion]
    /// Passages kept per question (as many as fit the token budget), in dataset order.
    let passages: [[String]]
    let template: ChatTemplate
    let bosToken: String?
    let eosToken: String?
    let segmenter: PromptSegmenter

    static let system = "Answer the question from the passages, in a few words."

    /// Keeps, for each question, its first `passagesPerQuestion` passages, each cut to an equal share of
    /// `budget` prompt tokens (MuSiQue passages run to hundreds of words; the chat must fit the context).
    init(questions: [RAGQuestion], passagesPerQuestion: Int, budget: Int, template: ChatTemplate, bosToken: String?, eosToken: String?,
         segmenter: PromptSegmenter) {
        self.questions = questions
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.segmenter = segmenter
        let tokenizer = segmenter.tokenizer
        passages = questions.map { question in
            let overhead = tokenizer.encode(Self.system + question.question).count + 48
            let chosen = question.ctxs.prefix(passagesPerQuestion)
            let share = max(8, (budget - overhead) / max(chosen.count, 1) - 4)
            return chosen.map { passage in
                let ids = tokenizer.encode(passage.title + "\n" + passage.text, addSpecialTokens: false)
                return ids.count <= share ? passage.title + "\n" + passage.text
                    : tokenizer.decode(Array(ids.prefix(share))).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    /// The messages of question `index` with its passages in `order` (a permutation of their indices).
    func messages(_ index: Int, order: [Int]) -> [(role: String, content: String)] {
        let pasted = order.map { passages[index][$0] }.joined(separator: "\n\n")
        return [("system", Self.system), ("user", pasted + "\n\nQuestion: " + questions[index].question)]
    }

    /// How the server segments the chat (the same rule and template): prefix / chunks / query.
    func layout(_ messages: [(role: String, content: String)]) throws -> RAGPrompt? {
        let chat = messages.map { ChatMessage(role: $0.role, content: $0.content) }
        let text = try template.render(messages: chat, addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
        return segmenter.segment(chat: text, messages: chat)?.layout
    }

    /// A seeded shuffle of question `index`'s passages.
    func order(_ index: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix(state: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        return Array(passages[index].indices).shuffled(using: &generator)
    }
}

/// A small deterministic generator for the shuffles.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Quality of each reuse mode against full recompute on the served layouts: the first answer token's
/// distribution after composing the shuffled prompt, with the passages seen once before in another order.
struct RAGServeQuality: Codable {
    var mode: String
    var kl_to_full: Double
    var top1_agreement: Double

    static func measure(_ workload: RAGServeWorkload, languageModel: LanguageModel, questions: Int, blend: BlendParameters,
                        progress: (Int, Int) -> Void) async throws -> [RAGServeQuality] {
        let library = try languageModel.library()
        let context = languageModel.tokenizer.encode("", addSpecialTokens: true)
        let composer = PromptComposer(model: languageModel.model, library: library, namespace: .shared, chunkContext: context)
        let modes: [ReuseMode] = [.anchored, .blend]
        var kl = [Double](repeating: 0, count: modes.count), agree = [Int](repeating: 0, count: modes.count)
        var measured = 0
        for index in 0..<min(questions, workload.questions.count) {
            progress(index, questions)
            guard let seen = try workload.layout(workload.messages(index, order: workload.order(index, seed: 1))),
                  let asked = try workload.layout(workload.messages(index, order: workload.order(index, seed: 2))) else { continue }
            _ = try await composer.compose(seen, mode: .anchored)
            let full = try await composer.compose(asked, mode: .full).logits.last
            for (slot, mode) in modes.enumerated() {
                let reused = try await composer.compose(asked, mode: mode, blend: blend).logits.last
                kl[slot] += LogProbabilities.klDivergence(full, reused)
                if Sampler.argmax(full) == Sampler.argmax(reused) { agree[slot] += 1 }
            }
            measured += 1
        }
        progress(questions, questions)
        return modes.enumerated().map { slot, mode in
            RAGServeQuality(mode: mode.rawValue, kl_to_full: kl[slot] / Double(max(measured, 1)),
                            top1_agreement: Double(agree[slot]) / Double(max(measured, 1)))
        }
    }
}
