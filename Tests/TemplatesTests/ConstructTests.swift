import Foundation
import Testing
@testable import Templates

/// One small template per construct (whitespace control, loops, scoping, namespace, literals, operators,
/// tests, filters, methods, tojson, errors), each rendered by transformers' environment in
/// `scripts/make_chat_fixtures.py`: our render must match it exactly, or fail where it fails.
struct ConstructTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let template: String
        let expected: String?
        let expected_error: String?
        let error_class: String?
        var testDescription: String { name }
    }

    struct File: Decodable {
        let messages: [ChatMessage]
        let bos_token: String
        let eos_token: String
        let add_generation_prompt: Bool
        let date: String
        let cases: [Case]
    }

    static let file: File = {
        let url = FixtureTests.fixtures.appendingPathComponent("constructs.json")
        return try! JSONDecoder().decode(File.self, from: try! Data(contentsOf: url))
    }()

    @Test(arguments: file.cases)
    func rendersLikeJinja(_ testCase: Case) throws {
        let file = Self.file
        let date = try #require(ISO8601DateFormatter().date(from: file.date))
        let template = try ChatTemplate(source: testCase.template, name: testCase.name)
        do {
            let rendered = try template.render(messages: file.messages, addGenerationPrompt: file.add_generation_prompt,
                                               bosToken: file.bos_token, eosToken: file.eos_token, date: date)
            let expected = try #require(testCase.expected, "rendered \(rendered.debugDescription), but jinja2 raised \(testCase.expected_error ?? "")")
            if let difference = FixtureTests.difference(rendered, expected) {
                Issue.record("\(testCase.name): \(difference)")
            }
        } catch let error as TemplateError {
            let message = try #require(testCase.expected_error, "unexpected error: \(error)")
            if testCase.error_class == "TemplateError" {
                #expect(error.kind == .raised)
                #expect(error.message == message)
            } else {
                #expect(error.kind == .render)
            }
            #expect(error.template == testCase.name)
        }
    }
}
