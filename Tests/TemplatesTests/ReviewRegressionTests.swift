import Foundation
import Testing
@testable import Templates

/// Crafted templates from the review of the Templates module: each once trapped, overflowed the stack or
/// allocated gigabytes, and must now end in a clear error.
struct ReviewRegressionTests {
    func expectError(_ source: String, _ kind: TemplateError.Kind, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ChatTemplate(source: source, name: "crafted").render(messages: [], addGenerationPrompt: true)
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as TemplateError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a TemplateError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func rangeBoundsCannotOverflow() throws {
        expectError("{{ range(9223372036854775807)|length }}", .limit)
        expectError("{{ range(-9223372036854775807, 9223372036854775807)|length }}", .limit)
        // One item: the step is huge but the range is not.
        let one = try ChatTemplate(source: "{{ range(0, 10, -9223372036854775807-1)|length }},{{ range(5, 9223372036854775807, 9223372036854775807)|list }}",
                                   name: "t").render(messages: [], addGenerationPrompt: false)
        #expect(one == "0,[5]")
    }

    @Test func integerDivisionOfTheMinimumByMinusOneIsAnError() {
        expectError("{{ (-9223372036854775807-1) // -1 }}", .render)
        expectError("{{ (-9223372036854775807-1) % -1 }}", .render)
    }

    @Test func aNamespaceCannotHoldItselfOrNestWithoutBound() {
        expectError("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", .limit)
        expectError("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}", .limit)
        expectError("{% set ns = namespace(x={}) %}{% for i in range(5000) %}{% set ns.x = {'a': ns.x} %}{% endfor %}", .limit)
    }

    @Test func growingStringOperationsAreRefusedBeforeTheyAllocate() {
        expectError("{{ ('a' * 16000000).replace('a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}", .limit)
        expectError("{{ range(100000)|join('x' * 1000000) }}", .limit)
        expectError("{{ [1, 2]|tojson(indent=' ' * 1000000) }}", .limit)
    }
}
