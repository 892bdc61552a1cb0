import Engine
import Hummingbird
import NIOCore

/// Runs one job through the scheduler and answers with the whole completion, or with server-sent events
/// (`data: {chunk}` per token, the finish chunk, the usage chunk with `include_usage`, then `data: [DONE]`).
///
/// A stream waits for the first token before it sends its headers, so an error the scheduler reports before
/// that (queue full, prompt too long, shutting down) still gets its status. When the client goes away the
/// write fails, the stream's iterator is released, and the scheduler cancels the sequence and frees its KV.
/// A whole completion writes nothing before it ends, so its client's going away is seen on the inbound side
/// of the connection instead (see `respond`).
struct CompletionResponder: Sendable {
    let state: ServerState
    let format: ResponseFormat
    let record: RequestRecord

    /// - request: its body already read; watched for the client closing the connection (non-streamed).
    func respond(to job: CompletionJob, stream: Bool, request: Request) async throws -> Response {
        guard !state.isShuttingDown else { throw APIError.shuttingDown }
        let events = EventIterator(try state.scheduler.submit(job))
        if stream { return try await streamed(events) }
        // Hummingbird reads the connection's inbound side while the completion runs and cancels it when the
        // client closes the connection: the scheduler's stream is then cancelled, which cancels the sequence
        // and frees its KV. Reading ahead costs the connection's reuse: the answer says `Connection: close`.
        // The body was read whole: it becomes that (empty) buffer over the connection's stream, which Hummingbird
        // then reads on from where the request ended (a raw stream read past its end would never be finished).
        var request = request
        request.body = RequestBody(buffer: ByteBuffer())
        do {
            var response = try await request.body.consumeWithCancellationOnInboundClose { _ in try await whole(events) }
            response.headers[.connection] = "close"
            return response
        } catch is CancellationError where !state.isShuttingDown {
            events.close()
            throw APIError.clientClosed
        }
    }

    private func whole(_ events: EventIterator) async throws -> Response {
        defer { events.close() }
        var text = ""
        var entries = LogprobEntries()
        var timing = TokenTiming()
        while let event = try await events.next() {
            switch event {
            case .token(let token):
                timing.tokenArrived()
                text += token.text
                entries.append(token)
            case let .finished(reason, usage):
                finished(usage, timing: timing)
                return Self.json(format.completion(text: text, logprobEntries: entries, finish: reason, usage: usage))
            }
        }
        throw APIError.internalError("the scheduler's stream ended without a finish event")
    }

    private func streamed(_ events: EventIterator) async throws -> Response {
        // The first event decides the status: errors before it are answered as errors.
        guard let first = try await events.next() else {
            events.close()
            throw APIError.internalError("the scheduler's stream ended without a finish event")
        }
        record.markStreamed()
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { [self] writer in
            defer { events.close() }
            do {
                try await stream(first: first, events: events, writer: &writer)
                try await writer.finish(nil)
            } catch let error as StreamWriteError {
                record.log(status: 200, logger: state.logger, note: "client disconnected: \(error.underlying)")
            }
        })
    }

    /// Writes every event as it comes; a failed write (client gone) throws `StreamWriteError`.
    private func stream(first: CompletionEvent, events: EventIterator, writer: inout any ResponseBodyWriter) async throws {
        if format.endpoint == .chat {
            try await send(format.chunk(text: "", role: true, logprobEntries: LogprobEntries(), finish: nil), &writer)
        }
        var entries = LogprobEntries()
        var timing = TokenTiming()
        var next: CompletionEvent? = first
        while let event = next {
            switch event {
            case .token(let token):
                timing.tokenArrived()
                entries.removeAll()
                entries.append(token)
                if !token.text.isEmpty || !entries.isEmpty {
                    try await send(format.chunk(text: token.text, logprobEntries: entries, finish: nil), &writer)
                }
            case let .finished(reason, usage):
                finished(usage, timing: timing)
                try await send(format.chunk(text: "", logprobEntries: LogprobEntries(), finish: reason), &writer)
                if format.includeUsage { try await send(format.usageChunk(usage), &writer) }
                try await sendLine("data: [DONE]\n\n", &writer)
                record.log(status: 200, logger: state.logger)
                return
            }
            do {
                next = try await events.next()
            } catch {
                // After the headers, an error can only be reported in the stream (as vLLM and llama-server do).
                let apiError = ErrorMapping.apiError(error)
                try await send(apiError.body, &writer)
                try await sendLine("data: [DONE]\n\n", &writer)
                record.log(status: 200, logger: state.logger, note: "stream ended by error: \(apiError.message)")
                return
            }
        }
        throw APIError.internalError("the scheduler's stream ended without a finish event")
    }

    private func send(_ json: JSONOutput, _ writer: inout any ResponseBodyWriter) async throws {
        try await sendLine("data: " + json.serialized + "\n\n", &writer)
    }

    private func sendLine(_ line: String, _ writer: inout any ResponseBodyWriter) async throws {
        do {
            try await writer.write(ByteBuffer(string: line))
        } catch {
            throw StreamWriteError(underlying: "\(error)")
        }
    }

    private func finished(_ usage: CompletionUsage, timing: TokenTiming) {
        record.set(usage: usage)
        state.metrics.recordCompletion(timeToFirstToken: usage.timeToFirstToken,
                                       timePerOutputToken: timing.secondsPerTokenAfterFirst(count: usage.completionTokens))
    }

    static func json(_ body: JSONOutput, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: body.serialized)))
    }
}

/// A write to the client failed: it disconnected.
struct StreamWriteError: Error {
    var underlying: String
}

/// When the first token of a completion arrived and when the last did, for the time per output token.
struct TokenTiming {
    private var first: ContinuousClock.Instant?
    private var last: ContinuousClock.Instant?

    mutating func tokenArrived() {
        let now = ContinuousClock.now
        if first == nil { first = now }
        last = now
    }

    /// Seconds per token after the first, or nil with fewer than two tokens.
    func secondsPerTokenAfterFirst(count: Int) -> Double? {
        guard let first, let last, count > 1 else { return nil }
        let elapsed = last - first
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(count - 1)
    }
}

/// The scheduler's event stream, handed from the handler to the response writer.
/// @unchecked Sendable: one task at a time uses it (the handler until it returns the response, then the body
/// writer), never two at once. `close()` releases the iterator, which cancels the scheduler's sequence if it
/// has not finished.
final class EventIterator: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<CompletionEvent, Error>.Iterator?

    init(_ stream: AsyncThrowingStream<CompletionEvent, Error>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async throws -> CompletionEvent? {
        guard var current = iterator else { return nil }
        let event = try await current.next()
        iterator = current
        return event
    }

    func close() { iterator = nil }
}
