import Engine
import Foundation
import Hummingbird
import NIOCore
import Templates

/// Turns any error a request can raise into the `APIError` the client sees (the one place where Engine,
/// Templates, JSON decoding and Hummingbird errors meet HTTP statuses).
enum ErrorMapping {
    /// Engine parameter names (shared with the command line) -> request fields.
    static let engineParameters: [String: String] = [
        "max-tokens": "max_tokens", "top-k": "reanchor.top_k", "top-p": "top_p",
        "repetition-penalty": "reanchor.repetition_penalty", "temperature": "temperature", "stop": "stop",
        "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty", "top_logprobs": "top_logprobs",
    ]

    /// - promptField: `prompt` or `messages`, named by errors about the prompt's length.
    static func apiError(_ error: any Error, promptField: String = "prompt") -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as SchedulerError:
            return apiError(error, promptField: promptField)
        case let EngineError.invalidParameter(name, reason):
            let field = engineParameters[name] ?? name
            return .invalid(field, "'\(field)' \(reason)")
        case let error as TemplateError:
            // A conversation the template refuses (raise_exception, a type it cannot render) is the client's to fix.
            return .invalid("messages", "\(error)")
        case let error as DecodingError:
            return apiError(error)
        case is NIOTooManyBytesError:
            return .bodyTooLarge(limit: 0)
        case let error as HTTPError where error.status == .notFound:
            return .routeNotFound(error.body ?? "this path")
        case let error as HTTPError:
            return APIError(status: error.status, message: error.body ?? "\(error.status)", type: "invalid_request_error")
        case is CancellationError:
            return .shuttingDown
        default:
            return .internalError("\(error)")
        }
    }

    static func apiError(_ error: SchedulerError, promptField: String) -> APIError {
        switch error {
        case .queueFull(let retryAfterSeconds):
            return .queueFull(retryAfterSeconds: max(retryAfterSeconds, 1))
        case .shuttingDown:
            return .shuttingDown
        case let .promptTooLong(tokens, context):
            return .invalid(promptField, "The prompt has \(tokens) tokens, more than the \(context)-token context allows.",
                            code: "context_length_exceeded")
        case let .budgetTooSmall(tokensNeeded, budgetTokens):
            return .invalid(promptField, "The request needs \(tokensNeeded) tokens of KV memory; the server's budget is \(budgetTokens).",
                            code: "context_length_exceeded")
        }
    }

    /// A JSON body that does not decode: 400 naming the field (`messages[0].content`) and what was expected.
    static func apiError(_ error: DecodingError) -> APIError {
        switch error {
        case let .typeMismatch(type, context):
            let field = path(context.codingPath)
            return .invalid(field, "'\(field)' must be \(typeName(type)).")
        case let .valueNotFound(type, context):
            let field = path(context.codingPath)
            return .invalid(field, "'\(field)' must be \(typeName(type)), not null.")
        case let .keyNotFound(key, context):
            let field = path(context.codingPath + [key])
            return .invalid(field, "'\(field)' is required.")
        case let .dataCorrupted(context):
            guard !context.codingPath.isEmpty else {
                return .invalid(nil, "The body is not valid JSON: \(underlyingReason(context)).")
            }
            let field = path(context.codingPath)
            return .invalid(field, "'\(field)': \(context.debugDescription)")
        @unknown default:
            return .invalid(nil, "The body could not be decoded: \(error)")
        }
    }

    /// `messages[0].content` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text.isEmpty ? "body" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        if let described = type as? any DescribedType.Type { return described.expectation }
        switch type {
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is String.Type: return "a string"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array<") { return "an array" }
            if name.hasPrefix("Dictionary<") { return "an object" }
            return "an object"
        }
    }

    private static func underlyingReason(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError as NSError? {
            return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        return context.debugDescription
    }
}

/// A request type whose JSON form is a union (`stop`: a string or a list of strings): decoding errors say what it accepts.
protocol DescribedType {
    /// "a string or an array of strings".
    static var expectation: String { get }
}
