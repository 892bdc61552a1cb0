import Testing
@testable import Documents

/// The only way to name a tenant validates its id (it becomes part of every key).
@Suite struct NamespaceTests {
    @Test(arguments: ["alice", "a", "Tenant-42_x.y", String(repeating: "z", count: 64)])
    func validIDsMakeATenantNamespace(id: String) throws {
        let namespace = try Namespace.tenant(id: id)
        #expect(namespace.tenantID == id && namespace.description == "tenant:\(id)")
        #expect(namespace.searchOrder == [namespace, .shared])
        #expect(try Namespace.parse(namespace.description) == namespace)
    }

    @Test(arguments: [
        ("", "it is empty"), ("../etc", "it holds '/'"), ("a b", "it holds ' '"), ("é", "it holds 'é'"), (".", "it is a path component"),
        ("..", "it is a path component"), ("tenant:x", "it holds ':'"), (String(repeating: "z", count: 65), "it has 65 bytes, more than 64"),
    ])
    func invalidIDsThrowTheRuleTheyBreak(id: String, reason: String) throws {
        #expect(throws: DocumentsError.invalidTenant(id: id.count > 64 ? String(id.prefix(64)) + "..." : id, reason: reason)) {
            try Namespace.tenant(id: id)
        }
    }

    @Test func theSharedNamespaceIsPublicAndHasNoTenant() throws {
        #expect(Namespace.shared.description == "public" && Namespace.shared.tenantID == nil)
        #expect(Namespace.shared.searchOrder == [.shared])
        #expect(try Namespace.parse("public") == .shared)
        #expect(try Namespace.tenant(id: "public") != .shared)
    }
}
