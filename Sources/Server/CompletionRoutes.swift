import Engine
import Foundation
import Hummingbird
import NIOCore

/// `POST /v1/completions` and `POST /v1/chat/completions`: decode and check the body, build the prompt
/// (tokenized text or token ids; a chat rendered by the template), and hand the job to the scheduler.
struct CompletionRoutes: Sendable {
    let state: ServerState

    func completions(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await Self.decode(CompletionRequest.self, from: request, limit: state.configuration.maxBodyBytes)
        try checkModel(body.common.model)
        try body.checkSupported()
        let topLogprobs = try JobParameters.checkedTopLogprobs(body.logprobs, field: "logprobs")
        let parameters = try JobParameters(body.common, defaultMaxTokens: ServerConfiguration.defaultCompletionMaxTokens,
                                           topLogprobs: topLogprobs)
        let prompt = try tokens(of: body.prompt)
        let job = try parameters.job(prompt: prompt, tenant: context.tenant.name)
        return try await responder(.completions, context: context, parameters: parameters).respond(to: job, stream: parameters.stream, request: request)
    }

    func chat(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await Self.decode(ChatRequest.self, from: request, limit: state.configuration.maxBodyBytes)
        try checkModel(body.common.model)
        let wantsLogprobs = body.logprobs ?? false
        if body.topLogprobs != nil && !wantsLogprobs {
            throw APIError.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true.")
        }
        let topLogprobs = wantsLogprobs ? (try JobParameters.checkedTopLogprobs(body.topLogprobs ?? 0, field: "top_logprobs")) : nil
        let parameters = try JobParameters(body.common, defaultMaxTokens: state.configuration.defaultChatMaxTokens,
                                           topLogprobs: topLogprobs)
        let prompt = try state.chat.prompt(for: try body.conversation())
        let job = try parameters.job(prompt: prompt.tokens, turnStarts: prompt.turnStarts, tenant: context.tenant.name)
        return try await responder(.chat, context: context, parameters: parameters).respond(to: job, stream: parameters.stream, request: request)
    }

    private func responder(_ endpoint: ResponseFormat.Endpoint, context: ServerContext, parameters: JobParameters) -> CompletionResponder {
        let format = ResponseFormat(endpoint: endpoint, requestID: context.record.id, created: Int(Date().timeIntervalSince1970),
                                    model: state.configuration.modelID, logprobs: parameters.topLogprobs != nil,
                                    includeUsage: parameters.includeUsage)
        return CompletionResponder(state: state, format: format, record: context.record)
    }

    private func checkModel(_ model: String) throws {
        guard model == state.configuration.modelID else { throw APIError.modelNotFound(model) }
    }

    /// The prompt as token ids: text is encoded with the tokenizer's special tokens (BOS), ids are checked
    /// against the vocabulary and used as they are.
    private func tokens(of prompt: PromptField) throws -> [Int] {
        let tokenizer = state.scheduler.tokenizer
        let tokens: [Int]
        switch prompt {
        case .text(let text):
            tokens = tokenizer.encode(text, addSpecialTokens: true)
        case .tokens(let ids):
            if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
                throw APIError.invalid("prompt", "'prompt[\(bad)]' is not a token id (0..<\(tokenizer.vocabularySize)), found \(ids[bad]).")
            }
            tokens = ids
        }
        guard !tokens.isEmpty else { throw APIError.invalid("prompt", "'prompt' is empty.") }
        return tokens
    }

    /// Reads at most `limit` bytes (413 beyond) and decodes them (400 naming the field on a wrong type).
    static func decode<Body: Decodable>(_ type: Body.Type, from request: Request, limit: Int) async throws -> Body {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ErrorMapping.apiError(error)
        }
    }
}
