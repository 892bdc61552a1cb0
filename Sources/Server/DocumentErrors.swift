import Hummingbird

extension APIError {
    /// The one answer for a document the caller may not read, whether it exists or not.
    static func documentNotFound(_ id: String) -> APIError {
        APIError(status: .notFound, message: "No document '\(id.prefix(80))'.", type: "invalid_request_error", param: "id",
                 code: "document_not_found")
    }

    static func publicDeleteNeedsAdmin(_ id: String) -> APIError {
        APIError(status: .forbidden, message: "Document '\(id)' is public: deleting it needs an admin key.",
                 type: "permission_error", param: "id", code: "admin_required")
    }
}
