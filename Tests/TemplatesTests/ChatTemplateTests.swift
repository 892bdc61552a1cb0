import Foundation
import Testing
@testable import Templates

/// Loading templates from `tokenizer_config.json`, the plain fallback, and the render API.
struct ChatTemplateTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func writeConfig(_ json: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("tokenizer_config.json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func readsAStringTemplateAndTheTokens() throws {
        let url = try writeConfig(#"""
            {"chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}",
             "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}
            """#)
        let config = try TokenizerConfig(url: url)
        #expect(config.bosToken == "<s>")
        #expect(config.eosToken == "</s>")
        let template = try ChatTemplate(tokenizerConfig: url)
        #expect(!template.isFallback)
        let text = try template.render(messages: [.user("hi"), .assistant("yo")], addGenerationPrompt: false,
                                       bosToken: config.bosToken, eosToken: config.eosToken)
        #expect(text == "<s>[user]hi</s>[assistant]yo</s>")
    }

    @Test func picksTheDefaultOfANamedList() throws {
        let url = try writeConfig(#"""
            {"chat_template": [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": "DEFAULT"},
                               {"name": "rag", "template": "RAG"}]}
            """#)
        #expect(try ChatTemplate(tokenizerConfig: url).render(messages: [], addGenerationPrompt: false) == "DEFAULT")
    }

    @Test func refusesAListWithoutDefault() throws {
        let url = try writeConfig(#"{"chat_template": [{"name": "tool_use", "template": "T"}]}"#)
        #expect(throws: TemplateError.self) { try ChatTemplate(tokenizerConfig: url) }
        do {
            _ = try ChatTemplate(tokenizerConfig: url)
        } catch let error as TemplateError {
            #expect(error.kind == .configuration)
            #expect(error.message.contains("no template named 'default' (found: tool_use)"))
        }
    }

    @Test(arguments: [#"{"chat_template": 5}"#, #"{"chat_template": [{"name": "default"}]}"#, "[1, 2]", "not json",
                      #"{"bos_token": 3}"#])
    func refusesMalformedConfigs(_ json: String) throws {
        let url = try writeConfig(json)
        #expect(throws: TemplateError.self) {
            _ = try TokenizerConfig(url: url)
            _ = try ChatTemplate(tokenizerConfig: url)
        }
    }

    @Test func aConfigWithoutTemplateIsAnErrorButForModelFallsBack() throws {
        let url = try writeConfig(#"{"bos_token": "<s>"}"#)
        #expect(throws: TemplateError.self) { try ChatTemplate(tokenizerConfig: url) }
        let template = try ChatTemplate.forModel(directory: url.deletingLastPathComponent())
        #expect(template.isFallback)
    }

    @Test func anUnsupportedTemplateInAModelIsAnErrorAtLoad() throws {
        let url = try writeConfig(#"{"chat_template": "line one\n{% macro x() %}{% endmacro %}"}"#)
        do {
            _ = try ChatTemplate.forModel(directory: url.deletingLastPathComponent())
            Issue.record("loaded a template with a macro")
        } catch let error as TemplateError {
            #expect(error.kind == .unsupported)
            #expect(error.line == 2)
            #expect(error.template == url.deletingLastPathComponent().lastPathComponent)
        }
    }

    @Test func theEmbeddedModelUsesThePlainFallback() throws {
        let directory = Self.repository.appendingPathComponent("models/books-5m")
        let config = try TokenizerConfig(url: directory.appendingPathComponent("tokenizer_config.json"))
        #expect(config.chatTemplate == nil)
        let template = try ChatTemplate.forModel(directory: directory)
        #expect(template.isFallback)
        let text = try template.render(messages: [.system(" Be brief. "), .user("Hello!"), .assistant("Hi."), .user("Why?")],
                                       addGenerationPrompt: true, bosToken: config.bosToken, eosToken: config.eosToken)
        #expect(text == "<|begin_of_text|>System: Be brief.\n\nUser: Hello!\n\nAssistant: Hi.\n\nUser: Why?\n\nAssistant:")
        let closed = try template.render(messages: [.user("Hello!")], addGenerationPrompt: false)
        #expect(closed == "User: Hello!\n\n")
    }

    @Test func aMissingDirectoryFallsBack() throws {
        let template = try ChatTemplate.forModel(directory: URL(fileURLWithPath: "/nonexistent/model"))
        #expect(template.isFallback)
    }

    @Test func nilContentIsNone() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m.content is none }}{{ m.content }};{% endfor %}")
        #expect(try template.render(messages: [ChatMessage(role: "assistant", content: nil), .user("x")],
                                    addGenerationPrompt: false) == "TrueNone;Falsex;")
    }

    @Test func undefinedTokensRenderEmptyAndTestUndefined() throws {
        let template = try ChatTemplate(source: "[{{ bos_token }}]{{ eos_token is defined }}{{ tools is none }}{{ documents is none }}")
        #expect(try template.render(messages: [], addGenerationPrompt: false) == "[]FalseTrueTrue")
    }

    @Test func rendersAreIndependent() throws {
        // A namespace or a `set` in one render must not leak into the next.
        let template = try ChatTemplate(source: "{% if seen is defined %}leak{% endif %}{% set seen = 1 %}{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}")
        #expect(try template.render(messages: [.user("a"), .user("b")], addGenerationPrompt: false) == "2")
        #expect(try template.render(messages: [.user("a")], addGenerationPrompt: false) == "1")
    }

    @Test func strftimeReadsTheGivenDateInUTC() throws {
        let template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B') }}")
        let date = Date(timeIntervalSince1970: 1_721_952_000)  // 2024-07-26T00:00:00Z
        #expect(try template.render(messages: [], addGenerationPrompt: false, date: date) == "26 Jul 2024|26 July")
    }

    @Test func theDifferenceReportPointsAtTheFirstMismatch() {
        #expect(FixtureTests.difference("abc", "abc") == nil)
        let report = FixtureTests.difference("abXd", "abcd")
        #expect(report?.hasPrefix("first difference at scalar 2 (lengths 4 vs 4)") == true)
        // Canonically equivalent but different scalars are a difference, as in Python.
        #expect(FixtureTests.difference("e\u{301}", "\u{e9}") != nil)
    }
}
