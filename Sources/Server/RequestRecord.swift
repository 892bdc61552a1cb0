import Engine
import Foundation
import Logging
import Synchronization

/// One request's figures for its log line (id, tenant, prompt / cached / generated tokens, TTFT, status).
/// A reference so that a streaming response, which ends after its handler has returned, completes it.
final class RequestRecord: Sendable {
    private struct Fields {
        var id: String
        var tenant = ""
        var usage: CompletionUsage?
        /// The response is streamed: the stream writes the log line when it ends.
        var streamed = false
        var logged = false
    }

    let route: String
    let started = ContinuousClock.now
    private let fields: Mutex<Fields>

    init(route: String) {
        self.route = route
        fields = Mutex(Fields(id: RequestRecord.newID()))
    }

    /// 24 random hex digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in String(generator.next() as UInt32, radix: 16).leftPadded(to: 8) }.joined()
    }

    var id: String { fields.withLock { $0.id } }
    var isStreamed: Bool { fields.withLock { $0.streamed } }

    func set(tenant: String) { fields.withLock { $0.tenant = tenant } }
    func set(usage: CompletionUsage) { fields.withLock { $0.usage = usage } }
    func markStreamed() { fields.withLock { $0.streamed = true } }

    /// Writes the request's one log line (once).
    func log(status: Int, logger: Logger, note: String? = nil) {
        let line: String? = fields.withLock { fields in
            guard !fields.logged else { return nil }
            fields.logged = true
            let elapsed = ContinuousClock.now - started
            var line = "request id=\(fields.id) tenant=\(fields.tenant.isEmpty ? "-" : fields.tenant) route=\(route) status=\(status)"
            if let usage = fields.usage {
                line += " prompt_tokens=\(usage.promptTokens) cached_tokens=\(usage.cachedTokens)"
                line += " generated_tokens=\(usage.completionTokens)"
                line += String(format: " ttft_ms=%.1f", usage.timeToFirstToken * 1000)
            }
            line += String(format: " total_ms=%.1f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            if let note { line += " note=\"\(note)\"" }
            return line
        }
        if let line { logger.info("\(line)") }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
