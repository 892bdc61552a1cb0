import Foundation
import Testing
@testable import Templates

/// No template text and no conversation can crash the interpreter or make it run or allocate without bound.
struct LimitTests {
    func expectLimit(_ source: String, limits: TemplateLimits = TemplateLimits(), messages: [ChatMessage] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let template = try ChatTemplate(source: source, name: "huge", limits: limits)
            _ = try template.render(messages: messages, addGenerationPrompt: true)
            Issue.record("no limit reached", sourceLocation: sourceLocation)
        } catch let error as TemplateError {
            #expect(error.kind == .limit, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a TemplateError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func nestedLoopsAreBounded() {
        expectLimit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                    limits: TemplateLimits(maximumIterations: 20_000))
    }

    @Test func loopsOverMessagesAreBoundedToo() {
        let messages = Array(repeating: ChatMessage.user("x"), count: 200)
        expectLimit("{% for a in messages %}{% for b in messages %}{% for c in messages %}{% endfor %}{% endfor %}{% endfor %}",
                    limits: TemplateLimits(maximumIterations: 20_000), messages: messages)
    }

    @Test func outputIsBounded() {
        expectLimit("{% for i in range(10000) %}0123456789{% endfor %}", limits: TemplateLimits(maximumOutputLength: 1000))
    }

    @Test func hugeStringsAreRefusedBeforeTheyAreBuilt() {
        expectLimit("{{ 'x' * 1000000000000 }}")
        expectLimit("{% set s = 'abcdefgh' * 1000000 %}{{ s ~ s ~ s ~ s ~ s }}", limits: TemplateLimits(maximumOutputLength: 1 << 20))
    }

    @Test func hugeRangesAreRefused() {
        expectLimit("{{ range(1000000000000) | length }}")
    }

    @Test func deepNestingIsRefusedNotACrash() {
        expectLimit("{{ " + String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000) + " }}")
        expectLimit("{{ " + String(repeating: "not ", count: 100_000) + "x }}")
        expectLimit("{{ " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + " }}")
        expectLimit(String(repeating: "{% if true %}", count: 10_000) + String(repeating: "{% endif %}", count: 10_000))
        expectLimit("{{ x" + String(repeating: "|trim", count: 100_000) + " }}")
        expectLimit("{{ 1" + String(repeating: " + 1", count: 100_000) + " }}")
    }

    @Test func hugeSourcesAreRefused() {
        expectLimit(String(repeating: "x", count: 2 << 20))
    }

    @Test func setInsideLoopDoesNotGrowScopes() throws {
        let template = try ChatTemplate(source: "{% set ns = namespace(n=0) %}{% for i in range(20000) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}")
        #expect(try template.render(messages: [], addGenerationPrompt: false) == "20000")
    }

    /// Random template text built from Jinja fragments: every one either parses or is refused with a
    /// TemplateError, and every parsed one renders or fails with a TemplateError (never a trap).
    @Test func randomTemplatesNeverCrash() {
        let fragments = ["{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " if ", " for ", " in ", " endif ", " endfor ",
                         " set ", " x ", "messages", "[", "]", "(", ")", "'", "\"", ".", ",", ":", "|", " trim",
                         " length", " is ", " defined", " not ", " and ", " or ", "~", "*", "/", "%", "0", "1", "-1",
                         "loop", ".index", " else ", " elif ", " = ", "ns", "namespace(", "\n", " ", "text", "\\",
                         "raise_exception('r')", "range(3)", " tojson", "{}", "==", "!=", "<", "[:-1]", "é"]
        var generator = SeededGenerator(seed: 42)
        var parsed = 0, rendered = 0
        let messages: [ChatMessage] = [.system("s"), .user("u"), .assistant("a")]
        for _ in 0..<5000 {
            let count = Int.random(in: 1...24, using: &generator)
            let source = (0..<count).map { _ in fragments.randomElement(using: &generator)! }.joined()
            do {
                let template = try ChatTemplate(source: source)
                parsed += 1
                _ = try template.render(messages: messages, addGenerationPrompt: true)
                rendered += 1
            } catch is TemplateError {
                continue
            } catch {
                Issue.record("\(source.debugDescription): not a TemplateError: \(error)")
            }
        }
        #expect(parsed > 100)
        #expect(rendered > 50)
    }
}

/// SplitMix64, so the random templates are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
