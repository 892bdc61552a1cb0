import Foundation
import Testing
@testable import Templates

/// Templates that must be refused at load, with the construct and its line; render errors that name the
/// template and the reason.
struct ErrorTests {
    struct Refused: CustomTestStringConvertible, Sendable {
        let source: String
        let kind: TemplateError.Kind
        let line: Int
        let mentions: String
        var testDescription: String { source.debugDescription }
    }

    static let refused: [Refused] = [
        Refused(source: "{% if x %}\nabc", kind: .syntax, line: 1, mentions: "'if' is never closed"),
        Refused(source: "a\n\n{% macro m() %}x{% endmacro %}", kind: .unsupported, line: 3, mentions: "'macro' tag"),
        Refused(source: "ok\n{{ x | wordwrap }}", kind: .unsupported, line: 2, mentions: "'wordwrap' filter"),
        Refused(source: "{% if x is fancy %}{% endif %}", kind: .unsupported, line: 1, mentions: "'fancy' test"),
        Refused(source: "\n{% include 'other.jinja' %}", kind: .unsupported, line: 2, mentions: "'include' tag"),
        Refused(source: "{% extends 'base' %}", kind: .unsupported, line: 1, mentions: "'extends' tag"),
        Refused(source: "{% raw %}{{ x }}{% endraw %}", kind: .unsupported, line: 1, mentions: "'raw' tag"),
        Refused(source: "{% filter upper %}x{% endfilter %}", kind: .unsupported, line: 1, mentions: "'filter' tag"),
        Refused(source: "{% for x in y recursive %}{% endfor %}", kind: .unsupported, line: 1, mentions: "recursive"),
        Refused(source: "{{ f(*args) }}", kind: .unsupported, line: 1, mentions: "*args"),
        Refused(source: "x\ny\n{{ 'abc }}", kind: .syntax, line: 3, mentions: "string literal is never closed"),
        Refused(source: "{{ x ", kind: .syntax, line: 1, mentions: "never closed"),
        Refused(source: "a\n{# abc", kind: .syntax, line: 2, mentions: "comment"),
        Refused(source: "{% endif %}", kind: .syntax, line: 1, mentions: "'endif'"),
        Refused(source: "{% for x in xs %}{% endif %}", kind: .syntax, line: 1, mentions: "'endif'"),
        Refused(source: "{{ (1 }}", kind: .syntax, line: 1, mentions: "expected"),
        Refused(source: "{{ x ] }}", kind: .syntax, line: 1, mentions: "unexpected ']'"),
        Refused(source: "\n\n\n{% bogus %}", kind: .syntax, line: 4, mentions: "unknown tag 'bogus'"),
        Refused(source: "{{ }}", kind: .syntax, line: 1, mentions: "unexpected"),
        Refused(source: "{{ x $ y }}", kind: .syntax, line: 1, mentions: "unexpected character"),
        Refused(source: "{% set %}", kind: .syntax, line: 1, mentions: "expected a name"),
        Refused(source: "{{ a[] }}", kind: .syntax, line: 1, mentions: "empty subscript"),
        Refused(source: "{{ '\\x4' }}", kind: .syntax, line: 1, mentions: "escape"),
    ]

    @Test(arguments: refused)
    func refusedAtLoad(_ refused: Refused) {
        do {
            _ = try ChatTemplate(source: refused.source, name: "bad.jinja")
            Issue.record("accepted \(refused.source.debugDescription)")
        } catch let error as TemplateError {
            #expect(error.kind == refused.kind, "\(error)")
            #expect(error.line == refused.line, "\(error)")
            #expect(error.message.contains(refused.mentions), "\(error)")
            #expect(error.template == "bad.jinja")
            #expect(error.description.hasPrefix("chat template 'bad.jinja' line \(refused.line): "))
        } catch {
            Issue.record("not a TemplateError: \(error)")
        }
    }

    @Test func raiseExceptionNamesTheTemplateAndMessage() throws {
        let template = try ChatTemplate(source: "{% if messages[0].role != 'user' %}{{ raise_exception('Only user messages!') }}{% endif %}",
                                        name: "strict")
        #expect(throws: TemplateError(.raised, "Only user messages!", line: 1, template: "strict")) {
            try template.render(messages: [.system("s")], addGenerationPrompt: false)
        }
        #expect(try template.render(messages: [.user("u")], addGenerationPrompt: false) == "")
    }

    @Test func renderErrorsCarryTheLine() throws {
        let template = try ChatTemplate(source: "first\n\n{{ nothing.role }}", name: "t")
        do {
            _ = try template.render(messages: [], addGenerationPrompt: false)
            Issue.record("rendered an attribute of an undefined name")
        } catch let error as TemplateError {
            #expect(error.kind == .render)
            #expect(error.line == 3)
            #expect(error.message.contains("'nothing' is undefined"))
            #expect(error.description == "chat template 't' line 3: \(error.message)")
        }
    }

    @Test(arguments: [
        "{{ 'a' + 1 }}", "{{ 1 - 'a' }}", "{{ 1 < 'a' }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}", "{{ 1 / 0 }}",
        "{{ nothing + 1 }}", "{{ nothing() }}", "{{ 5() }}", "{{ 1 in 5 }}", "{{ 'a' % 1 }}", "{{ none | length }}",
        "{% for x in 5 %}{% endfor %}", "{{ nothing[0] }}", "{{ [1][::0] }}", "{{ 9223372036854775807 + 1 }}",
        "{{ {'a': nothing} | tojson }}", "{{ namespace(_private=1) }}", "{% set x = 1 %}{% set x.y = 2 %}",
        "{% set ns = namespace() %}{% set ns._y = 2 %}", "{{ 'a'.split('') }}", "{{ strftime_now('%Q') }}",
        "{{ raise_exception }}", "{% set a, b = [1] %}", "{{ range(1, 2, 0) }}", "{{ [] | items }}",
        "{{ 'x' * 'y' }}", "{{ 2 ** 100 }}",
    ])
    func renderErrors(_ source: String) throws {
        let template = try ChatTemplate(source: source, name: "t")
        #expect(throws: TemplateError.self) { try template.render(messages: [], addGenerationPrompt: false) }
    }
}
