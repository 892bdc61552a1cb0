import Documents
import Foundation

/// Who a request comes from: the tenant its key maps to (exact-prefix KV reuse happens only within one).
public struct Tenant: Sendable, Equatable {
    public var name: String
    public var admin: Bool

    /// The one tenant of a server run without `--api-keys` (loopback only).
    public static let local = Tenant(name: "local", admin: true)
}

/// `--api-keys FILE`: `{"keys": [{"key": "...", "tenant": "alpha", "admin": false}]}`, checked when loaded
/// (keys non-empty and unique, tenants non-empty; `admin` defaults to false). Requests authenticate with
/// `Authorization: Bearer KEY`.
public struct APIKeys: Sendable {
    private let entries: [(key: [UInt8], tenant: Tenant)]

    private struct File: Decodable {
        struct Entry: Decodable {
            var key: String
            var tenant: String
            var admin: Bool?
        }
        var keys: [Entry]
    }

    /// Limits on the file, checked before it is read whole.
    static let maximumFileBytes = 16 << 20

    public init(contentsOf url: URL) throws {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? Int else { throw ServerError.apiKeys(path: url.path, reason: "cannot be read") }
        guard size <= Self.maximumFileBytes else {
            throw ServerError.apiKeys(path: url.path, reason: "is larger than \(Self.maximumFileBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ServerError.apiKeys(path: url.path, reason: "cannot be read")
        }
        try self.init(data: data, path: url.path)
    }

    public init(data: Data, path: String = "api keys") throws {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch let error as DecodingError {
            throw ServerError.apiKeys(path: path, reason: ErrorMapping.apiError(error).message)
        }
        guard !file.keys.isEmpty else { throw ServerError.apiKeys(path: path, reason: "'keys' is empty") }
        var seen = Set<String>()
        for (index, entry) in file.keys.enumerated() {
            guard !entry.key.isEmpty else { throw ServerError.apiKeys(path: path, reason: "keys[\(index)].key is empty") }
            guard !entry.tenant.isEmpty else { throw ServerError.apiKeys(path: path, reason: "keys[\(index)].tenant is empty") }
            do {
                _ = try Namespace.tenant(id: entry.tenant)
            } catch {
                throw ServerError.apiKeys(path: path, reason: "keys[\(index)].tenant: \(error)")
            }
            guard seen.insert(entry.key).inserted else {
                throw ServerError.apiKeys(path: path, reason: "keys[\(index)].key repeats an earlier key")
            }
        }
        entries = file.keys.map { (Array($0.key.utf8), Tenant(name: $0.tenant, admin: $0.admin ?? false)) }
    }

    /// The tenant of an `Authorization` header value, or nil. Every key is compared in full, in time that does
    /// not depend on where a guess first differs.
    func tenant(authorization: String?) -> Tenant? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let presented = Array(authorization.dropFirst("Bearer ".count).utf8)
        var found: Tenant?
        for entry in entries where Self.constantTimeEqual(entry.key, presented) { found = entry.tenant }
        return found
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
