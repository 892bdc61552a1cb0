import Crypto
import Foundation

/// Who may see an entry: everyone (`shared`, written `public`) or one tenant. A tenant's lookups see its own
/// entries and public ones; they never see another tenant's.
///
/// A struct with private storage rather than an enum with a public `tenant(String)` case, so the only way
/// to name a tenant is `tenant(id:)`, which validates the id: it becomes part of every key.
public struct Namespace: Sendable, Hashable, CustomStringConvertible {
    private enum Scope: Sendable, Hashable {
        case shared
        case tenant(String)
    }

    private let scope: Scope

    private init(_ scope: Scope) { self.scope = scope }

    /// Entries every tenant may read.
    public static let shared = Namespace(.shared)

    /// Longest tenant id accepted, in characters.
    public static let maximumTenantIDLength = 64

    /// Characters a tenant id may hold: ASCII letters, digits, `-`, `_` and `.`.
    static let tenantIDCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".utf8)

    /// The namespace of tenant `id`: 1-64 characters from letters, digits, `-`, `_` and `.`, and not `.` or `..`.
    /// - Throws: `DocumentsError.invalidTenant` saying which rule `id` breaks.
    public static func tenant(id: String) throws -> Namespace {
        let bytes = id.utf8
        if bytes.isEmpty { throw DocumentsError.invalidTenant(id: id, reason: "it is empty") }
        if bytes.count > maximumTenantIDLength {
            throw DocumentsError.invalidTenant(id: String(id.prefix(maximumTenantIDLength)) + "...",
                                               reason: "it has \(bytes.count) bytes, more than \(maximumTenantIDLength)")
        }
        if let bad = id.first(where: { character in !character.utf8.allSatisfy { tenantIDCharacters.contains($0) } }) {
            throw DocumentsError.invalidTenant(id: id, reason: "it holds '\(bad)'")
        }
        if id == "." || id == ".." { throw DocumentsError.invalidTenant(id: id, reason: "it is a path component") }
        return Namespace(.tenant(id))
    }

    /// Parses `description` back (`public` or `tenant:<id>`), validating the tenant id.
    /// - Throws: `DocumentsError.invalidTenant`, or `invalidEntry` when the text is neither form.
    static func parse(_ text: String) throws -> Namespace {
        if text == "public" { return .shared }
        let prefix = "tenant:"
        guard text.hasPrefix(prefix) else {
            throw DocumentsError.invalidEntry(reason: "header field namespace \(quoted(text)) is neither 'public' nor 'tenant:<id>'")
        }
        return try tenant(id: String(text.dropFirst(prefix.count)))
    }

    /// The tenant's id, or nil for the shared namespace.
    public var tenantID: String? {
        if case .tenant(let id) = scope { return id }
        return nil
    }

    public var description: String {
        switch scope {
        case .shared: return "public"
        case .tenant(let id): return "tenant:\(id)"
        }
    }

    /// 16 hex digits of SHA-256 of `description`: the namespace's part of a remote key, so one tenant's
    /// entries can be listed, counted or cleared in a shared store without naming the tenant in the key.
    public var digest: String {
        String(Fingerprint.hex(SHA256.hash(data: Data("reanchor-namespace-v1\n\(description)".utf8))).prefix(16))
    }

    /// Namespaces a request in this namespace reads, most specific first.
    public var searchOrder: [Namespace] {
        switch scope {
        case .shared: return [.shared]
        case .tenant: return [self, .shared]
        }
    }
}

/// `text` in single quotes, cut to 64 characters so a hostile file cannot flood a message.
func quoted(_ text: String) -> String {
    text.count <= 64 ? "'\(text)'" : "'\(text.prefix(64))...' (\(text.utf8.count) bytes)"
}
