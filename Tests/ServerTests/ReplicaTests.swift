import Documents
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import RESP
import Server
import Testing

/// Replicas sharing one Redis (`serve --remote`): documents and chunks prefilled through one are hits on the others.
@Suite(.serialized) struct ReplicaTests {
    @Test func aPassageIngestedOnOneReplicaHitsOnTheOthers() async throws {
        guard LocalRedisServer.executable != nil else {
            Issue.record("redis-server is not installed (apt-get install redis-server): the replica test cannot run")
            return
        }
        let redis = try LocalRedisServer()
        defer { withExtendedLifetime(redis) {} }  // the server (killed on deinit) lives to the end of the test
        let url = try redis.url()
        let replicaA = try DocumentsHarness(chunkTokens: 64, remote: url)
        let replicaB = try DocumentsHarness(chunkTokens: 64, remote: url)
        let replicaC = try DocumentsHarness(chunkTokens: 64, remote: url)
        let passage = ReuseRouteTests.passages[1]
        let id = try await replicaA.test { a in
            let created = try await a.ingest(#"{"text": \#(jsonString(passage))}"#, as: DocumentsHarness.alpha)
            return try #require(created["id"] as? String)
        }
        // By document id, on B's first use: the record and the chunk come from Redis.
        try await replicaB.test { b in
            let json = #"{"model": "books-5m", "max_tokens": 4, "temperature": 0, "reanchor": {"documents": ["\#(id)"]}, "messages": [{"role": "user", "content": "Who rose before the sun?"}]}"#
            let answer = try ReuseRouteTests.usage(try await b.post("/v1/chat/completions", json: json, headers: DocumentsHarness.alpha))
            #expect(answer.cached > 0, "the chunk came from the shared tier")
            #expect(try await b.get("/v1/documents/\(id)", headers: DocumentsHarness.beta).status == .notFound, "still private to alpha")
        }
        let remoteHitsB = await replicaB.documents.library.statistics.remote?.hits ?? 0
        #expect(remoteHitsB > 0)
        // Pasted inline, on C's first use.
        try await replicaC.test { c in
            let json = #"{"model": "books-5m", "max_tokens": 4, "temperature": 0, "messages": [{"role": "user", "content": \#(jsonString("A passage:\n\n" + passage + "\n\nWho rose before the sun?"))}]}"#
            let answer = try ReuseRouteTests.usage(try await c.post("/v1/chat/completions", json: json, headers: DocumentsHarness.alpha))
            #expect(answer.cached + answer.recomputed > 0, "cached \(answer.cached), recomputed \(answer.recomputed)")
            // A delete through C is a miss everywhere.
            #expect(try await c.delete("/v1/documents/\(id)", headers: DocumentsHarness.alpha).status == .ok)
        }
        let afterDelete = try await replicaA.test { a in try await a.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha).status }
        #expect(afterDelete == .notFound, "a delete on one replica is a miss on all")
    }
}
