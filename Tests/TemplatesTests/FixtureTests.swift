import Foundation
import Testing
@testable import Templates

/// Real models' chat templates rendered by transformers (`scripts/make_chat_fixtures.py`): every case must
/// render to the same string, scalar for scalar, or fail with the same `raise_exception` message.
struct FixtureTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let template: String
        let model: String
        let conversation: String
        let messages: [ChatMessage]
        let add_generation_prompt: Bool
        let bos_token: String?
        let eos_token: String?
        let expected: String?
        let expected_error: String?

        var testDescription: String { "\(template) \(conversation) gen=\(add_generation_prompt)" }
    }

    struct File: Decodable {
        let date: String
        let cases: [Case]
    }

    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static let file: File = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("chat_templates.json"))
        return try! JSONDecoder().decode(File.self, from: data)
    }()

    static let date = ISO8601DateFormatter().date(from: file.date)!

    static func template(_ file: String) throws -> ChatTemplate {
        let url = fixtures.appendingPathComponent("templates").appendingPathComponent(file)
        return try ChatTemplate(source: try String(contentsOf: url, encoding: .utf8), name: file)
    }

    /// Where two strings first differ, with context, for a readable failure.
    static func difference(_ actual: String, _ expected: String) -> String? {
        let a = Array(actual.unicodeScalars), e = Array(expected.unicodeScalars)
        guard a != e else { return nil }
        var index = 0
        while index < min(a.count, e.count) && a[index] == e[index] { index += 1 }
        func window(_ s: [Unicode.Scalar]) -> String {
            Strings.make(s[max(0, index - 30)..<min(s.count, index + 30)]).debugDescription
        }
        return "first difference at scalar \(index) (lengths \(a.count) vs \(e.count)):\n"
            + "  rendered: \(window(a))\n  expected: \(window(e))"
    }

    @Test func fixtureCoversEveryTemplateAndConversation() {
        #expect(Set(Self.file.cases.map(\.template)).count == 6)
        #expect(Self.file.cases.count >= 100)
        #expect(Self.file.cases.contains { $0.expected_error != nil })
    }

    @Test(arguments: file.cases)
    func rendersLikeTransformers(_ testCase: Case) throws {
        let template = try Self.template(testCase.template)
        do {
            let rendered = try template.render(messages: testCase.messages,
                                               addGenerationPrompt: testCase.add_generation_prompt,
                                               bosToken: testCase.bos_token, eosToken: testCase.eos_token,
                                               date: Self.date)
            let expected = try #require(testCase.expected, "rendered, but transformers raised \(testCase.expected_error ?? "")")
            if let difference = Self.difference(rendered, expected) {
                Issue.record("\(testCase.testDescription): \(difference)")
            }
        } catch let error as TemplateError {
            let message = try #require(testCase.expected_error, "unexpected error: \(error)")
            #expect(error.kind == .raised)
            #expect(error.message == message)
            #expect(error.template == testCase.template)
        }
    }
}
