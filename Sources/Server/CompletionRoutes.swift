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
        var plan = try completionPlan(body.prompt)
        if let ids = body.common.reanchor?.documents {
            let service = try documentService()
            let bos = service.context
            plan = try await plan.placing(documents: ids, after: plan.tokens.starts(with: bos) ? bos.count : 0, service: service,
                                          tenant: context.tenant)
        }
        let job = try await composedJob(plan, parameters: parameters, reuse: body.common.reanchor?.reuse, tenant: context.tenant)
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
        let messages = try body.conversation()
        let prompt = try state.chat.prompt(for: messages)
        var plan = PromptPlan(tokens: prompt.tokens, turnStarts: prompt.turnStarts)
        if let ids = body.common.reanchor?.documents {
            let service = try documentService()
            let bos = service.context
            let afterSystem = prompt.turnStarts.first ?? (prompt.tokens.starts(with: bos) ? bos.count : 0)
            plan = try await plan.placing(documents: ids, after: afterSystem, service: service, tenant: context.tenant)
        } else if let segmented = state.documents?.segmenter.segment(chat: prompt.text, messages: messages) {
            plan = PromptPlan(layout: segmented.layout, turnStarts: segmented.turnStarts)
        }
        let job = try await composedJob(plan, parameters: parameters, reuse: body.common.reanchor?.reuse, tenant: context.tenant)
        return try await responder(.chat, context: context, parameters: parameters).respond(to: job, stream: parameters.stream, request: request)
    }

    /// The job for `plan`: with a layout and a chunk mode (`anchored`, `blend`: the request's
    /// `reanchor.reuse` over `--reuse`), its prefix composed from the library first, when it names documents
    /// or pastes `--reuse-min-tokens` chunk tokens or more (a shorter one is computed, with the same ids). A prompt that does not
    /// leave a token to generate goes to the scheduler as it is (overflow handles it).
    private func composedJob(_ plan: PromptPlan, parameters: JobParameters, reuse field: ReuseField?, tenant: Tenant) async throws -> CompletionJob {
        var job = try parameters.job(prompt: plan.tokens, turnStarts: plan.turnStarts, tenant: tenant.name)
        let policy = try state.documents?.reuse.resolved(field)
        job.reusesParked = policy?.mode != .full
        guard let service = state.documents, let policy, let layout = plan.layout, policy.mode == .anchored || policy.mode == .blend,
              layout.chunkTokenCount > 0, plan.documents || layout.chunkTokenCount >= service.reuse.minimumChunkTokens,
              plan.tokens.count < state.scheduler.context else { return job }
        if let composed = try await service.compose(layout, mode: policy.mode, blend: policy.blend, tenant: tenant) { try job.compose(composed) }
        return job
    }

    /// The documents API, or 400 naming `reanchor.documents` when the server runs without it.
    private func documentService() throws -> DocumentService {
        guard let service = state.documents else {
            throw APIError.invalid("reanchor.documents", "This server has no document library ('reanchor.documents' is not available).")
        }
        return service
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

    /// The prompt as token ids: text is segmented for transparent reuse when it holds passages enough, else
    /// encoded with the tokenizer's special tokens (BOS); ids are checked against the vocabulary and used as
    /// they are.
    private func completionPlan(_ prompt: PromptField) throws -> PromptPlan {
        let tokenizer = state.scheduler.tokenizer
        let tokens: [Int]
        switch prompt {
        case .text(let text):
            if let layout = state.documents?.segmenter.segment(completion: text) { return PromptPlan(layout: layout) }
            tokens = tokenizer.encode(text, addSpecialTokens: true)
        case .tokens(let ids):
            if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
                throw APIError.invalid("prompt", "'prompt[\(bad)]' is not a token id (0..<\(tokenizer.vocabularySize)), found \(ids[bad]).")
            }
            tokens = ids
        }
        guard !tokens.isEmpty else { throw APIError.invalid("prompt", "'prompt' is empty.") }
        return PromptPlan(tokens: tokens)
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
