import Testing
@testable import Tokenizers

@Suite struct AddedTokensTests {
    /// The longest added token wins where several start at one position; plain text between stays in order.
    @Test func longestMatchWins() {
        let added = AddedTokens(tokens: [
            .init(id: 7, content: "<s>", special: true, normalized: false),
            .init(id: 8, content: "<s>x", special: true, normalized: false),
            .init(id: 9, content: "", special: true, normalized: false),
            .init(id: 10, content: "y", special: false, normalized: false),
        ])
        #expect(added.split("a<s>xb<s>y<") == [.text("a"), .token(8), .text("b"), .token(7), .token(10), .text("<")])
        #expect(added.split("") == [])
        #expect(AddedTokens(tokens: []).split("<s>") == [.text("<s>")])
    }

    /// Added tokens match exact scalars: not a canonically equivalent spelling, and also inside a cluster.
    @Test func matchingIsByScalars() {
        let added = AddedTokens(tokens: [
            .init(id: 1, content: "\u{E9}", special: false, normalized: false),   // é, one scalar
            .init(id: 2, content: "\u{301}", special: false, normalized: false),  // combining acute
        ])
        let segments = added.split("e\u{301}\u{E9}")
        #expect(segments == [.text("e"), .token(2), .token(1)])
        if case .text(let plain) = segments.first { #expect(plain.unicodeScalars.elementsEqual("e".unicodeScalars)) }
    }
}
