import Documents
import Engine
import Server
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `/v1/documents`: every endpoint, the visibility rules and the errors, with three tenants' keys.
@Suite(.serialized) struct DocumentRouteTests {
    @Test func ingestChunksAtParagraphsAndKnownChunksCostALookup() async throws {
        let harness = try DocumentsHarness(chunkTokens: 32)
        let documents = harness.documents
        try await harness.test { client in
            let text = jsonString(DocumentsHarness.text)
            let first = try await client.ingest(#"{"text": \#(text), "metadata": {"source": "austen", "n": 2}}"#, as: DocumentsHarness.alpha)
            #expect(first["status"] as? String == "ready")
            #expect(first["visibility"] as? String == "private")
            let chunks = try array(first["chunks"]).map { try object($0) }
            #expect(chunks.count >= 3, "three paragraphs of more than 16 tokens each do not pack into 32")
            for chunk in chunks { #expect(try integer(chunk["tokens"]) <= 32) }
            #expect(try integer(first["tokens"]) == (try chunks.reduce(0) { $0 + (try integer($1["tokens"])) }))
            #expect(try object(first["metadata"])["source"] as? String == "austen")
            let firstCount = try object(first["reanchor"])
            #expect(try integer(firstCount["prefilled_chunks"]) == chunks.count)
            #expect(try integer(firstCount["known_chunks"]) == 0)

            // The same text again: every chunk is known (a lookup, no prefill).
            let again = try await client.ingest(#"{"text": \#(text)}"#, as: DocumentsHarness.alpha)
            let againCount = try object(again["reanchor"])
            #expect(try integer(againCount["prefilled_chunks"]) == 0)
            #expect(try integer(againCount["known_chunks"]) == chunks.count)

            // Given chunks are taken as they are.
            let given = try await client.ingest(#"{"chunks": ["The ship sailed at dawn.", "The harbour fell silent."]}"#, as: DocumentsHarness.alpha)
            #expect(try array(given["chunks"]).count == 2)

            let id = try #require(first["id"] as? String)
            let one = try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha)
            #expect(one.status == .ok)
            #expect(try one.json()["id"] as? String == id)
            #expect(try one.json()["status"] as? String == "ready")
            let stats = await documents.library.statistics
            #expect(stats.memory.entries == chunks.count + 2)
        }
    }

    @Test func anotherTenantsPrivateDocumentIsTheSame404AsAMissingOne() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            let created = try await client.ingest(#"{"text": "A private note of alpha."}"#, as: DocumentsHarness.alpha)
            let id = try #require(created["id"] as? String)
            let missing = "doc-" + String(repeating: "0", count: 32)
            for (path, method) in [("/v1/documents/\(id)", HTTPRequest.Method.get), ("/v1/documents/\(id)", .delete)] {
                let theirs = try await client.execute(uri: path, method: method, headers: DocumentsHarness.beta)
                let none = try await client.execute(uri: path.replacingOccurrences(of: id, with: missing), method: method,
                                                    headers: DocumentsHarness.beta)
                #expect(theirs.status == .notFound)
                #expect(none.status == .notFound)
                #expect(String(buffer: theirs.body).replacingOccurrences(of: id, with: missing) == String(buffer: none.body))
                #expect(try theirs.apiError().code == "document_not_found")
            }
            // Still there for its owner.
            #expect(try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha).status == .ok)
        }
    }

    @Test func listingShowsOwnAndPublicOnlyAndPages() async throws {
        let harness = try DocumentsHarness()
        try await harness.test { client in
            var alphaIDs: [String] = []
            for index in 0..<3 {
                let body = try await client.ingest(#"{"text": "Alpha's note number \#(index)."}"#, as: DocumentsHarness.alpha)
                alphaIDs.append(try #require(body["id"] as? String))
            }
            let published = try await client.ingest(#"{"text": "A notice for everyone.", "visibility": "public"}"#, as: DocumentsHarness.alpha)
            let publicID = try #require(published["id"] as? String)
            let betaOwn = try await client.ingest(#"{"text": "Beta keeps this to itself."}"#, as: DocumentsHarness.beta)
            let betaID = try #require(betaOwn["id"] as? String)

            func ids(_ headers: HTTPFields, query: String = "") async throws -> (ids: [String], hasMore: Bool) {
                let response = try await client.get("/v1/documents\(query)", headers: headers)
                #expect(response.status == .ok)
                let body = try response.json()
                return (try array(body["data"]).map { try #require(try object($0)["id"] as? String) }, body["has_more"] as? Bool ?? false)
            }
            #expect(Set(try await ids(DocumentsHarness.alpha).ids) == Set(alphaIDs + [publicID]))
            #expect(Set(try await ids(DocumentsHarness.beta).ids) == Set([publicID, betaID]))
            #expect(Set(try await ids(DocumentsHarness.admin).ids) == Set([publicID]), "admin rights do not list private documents")

            // Pages of 2 walk alpha's four documents in order, without repeats.
            var seen: [String] = []
            var after = ""
            while true {
                let page = try await ids(DocumentsHarness.alpha, query: "?limit=2" + after)
                #expect(page.ids.count <= 2)
                seen += page.ids
                guard page.hasMore, let last = page.ids.last else { break }
                after = "&after=\(last)"
            }
            #expect(seen.count == 4 && Set(seen) == Set(alphaIDs + [publicID]))
        }
    }

    @Test func deleteRules() async throws {
        let harness = try DocumentsHarness()
        let documents = harness.documents
        try await harness.test { client in
            let created = try await client.ingest(#"{"text": "Alpha's secret plan.\n\nIts second paragraph."}"#, as: DocumentsHarness.alpha)
            let id = try #require(created["id"] as? String)
            let record = try #require(try await documents.store.record(id: id))
            let alphaSpace = try Namespace.tenant(id: "alpha")
            #expect(await documents.library.entry(tokens: record.chunks[0].tokens, context: record.context, exactly: alphaSpace) != nil)

            #expect(try await client.delete("/v1/documents/\(id)", headers: DocumentsHarness.beta).status == .notFound)
            #expect(try await client.delete("/v1/documents/\(id)", headers: DocumentsHarness.admin).status == .notFound,
                    "an admin of another tenant cannot see a private document either")
            let deleted = try await client.delete("/v1/documents/\(id)", headers: DocumentsHarness.alpha)
            #expect(deleted.status == .ok)
            #expect(try deleted.json()["deleted"] as? Bool == true)
            #expect(try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha).status == .notFound)
            for chunk in record.chunks {
                #expect(await documents.library.entry(tokens: chunk.tokens, context: record.context, exactly: alphaSpace) == nil,
                        "deleting removes the chunks from every tier")
            }

            // A chunk another document of the namespace still uses stays.
            let first = try await client.ingest(#"{"chunks": ["Shared paragraph.", "Only in the first."]}"#, as: DocumentsHarness.alpha)
            _ = try await client.ingest(#"{"chunks": ["Shared paragraph."]}"#, as: DocumentsHarness.alpha)
            let firstID = try #require(first["id"] as? String)
            let firstRecord = try #require(try await documents.store.record(id: firstID))
            #expect(try await client.delete("/v1/documents/\(firstID)", headers: DocumentsHarness.alpha).status == .ok)
            #expect(await documents.library.entry(tokens: firstRecord.chunks[0].tokens, context: firstRecord.context, exactly: alphaSpace) != nil)
            #expect(await documents.library.entry(tokens: firstRecord.chunks[1].tokens, context: firstRecord.context, exactly: alphaSpace) == nil)

            // Public: readable by all, deletable only with an admin key (not even by its publisher without one).
            let published = try await client.ingest(#"{"text": "Everyone may read this.", "visibility": "public"}"#, as: DocumentsHarness.alpha)
            let publicID = try #require(published["id"] as? String)
            #expect(try await client.get("/v1/documents/\(publicID)", headers: DocumentsHarness.beta).status == .ok)
            let refused = try await client.delete("/v1/documents/\(publicID)", headers: DocumentsHarness.alpha)
            #expect(refused.status == .forbidden)
            #expect(try refused.apiError().code == "admin_required")
            #expect(try await client.delete("/v1/documents/\(publicID)", headers: DocumentsHarness.beta).status == .forbidden)
            #expect(try await client.delete("/v1/documents/\(publicID)", headers: DocumentsHarness.admin).status == .ok)
            #expect(try await client.get("/v1/documents/\(publicID)", headers: DocumentsHarness.beta).status == .notFound)
        }
    }

    @Test func tenantBNeverHitsAPrivateChunkOfAButHitsPublicOnes() async throws {
        let harness = try DocumentsHarness()
        let documents = harness.documents
        try await harness.test { client in
            let text = jsonString(DocumentsHarness.text)
            let alpha = try await client.ingest(#"{"text": \#(text)}"#, as: DocumentsHarness.alpha)
            #expect(try integer(try object(alpha["reanchor"])["prefilled_chunks"]) > 0)
            // Identical text from beta: nothing of alpha's is found; beta prefills its own copies.
            let beta = try await client.ingest(#"{"text": \#(text)}"#, as: DocumentsHarness.beta)
            let betaCount = try object(beta["reanchor"])
            #expect(try integer(betaCount["known_chunks"]) == 0)
            #expect(try integer(betaCount["prefilled_chunks"]) == (try array(beta["chunks"]).count))
            // Different chunk ids: the namespace is part of the content address.
            let alphaIDs = try array(alpha["chunks"]).map { try object($0)["id"] as? String }
            let betaIDs = try array(beta["chunks"]).map { try object($0)["id"] as? String }
            #expect(Set(alphaIDs).isDisjoint(with: Set(betaIDs)))
            // Beta's lookups of those tokens never return alpha's entry.
            let alphaID = try #require(alpha["id"] as? String)
            let record = try #require(try await documents.store.record(id: alphaID))
            let betaSpace = try Namespace.tenant(id: "beta")
            for chunk in record.chunks {
                let found = await documents.library.lookup(tokens: chunk.tokens, context: record.context, namespace: betaSpace)
                #expect(found?.namespace == betaSpace)
            }

            // Published text is known to everyone: a lookup and a copy, no prefill.
            let notice = jsonString("A public notice.\n\nWith two paragraphs of public text.")
            _ = try await client.ingest(#"{"text": \#(notice), "visibility": "public"}"#, as: DocumentsHarness.alpha)
            let copied = try await client.ingest(#"{"text": \#(notice)}"#, as: DocumentsHarness.beta)
            #expect(try integer(try object(copied["reanchor"])["prefilled_chunks"]) == 0)
            #expect(try integer(try object(copied["reanchor"])["known_chunks"]) == (try array(copied["chunks"]).count))
        }
    }

    @Test func largeDocumentsArePrefilledInTheBackground() async throws {
        let harness = try DocumentsHarness(chunkTokens: 32, backgroundTokens: 8)
        try await harness.test { client in
            let text = jsonString(DocumentsHarness.text)
            let body = try await client.ingest(#"{"text": \#(text)}"#, as: DocumentsHarness.alpha, status: .accepted)
            #expect(body["status"] as? String == "processing")
            let id = try #require(body["id"] as? String)
            var status = "processing"
            for _ in 0..<600 where status == "processing" {
                try await Task.sleep(for: .milliseconds(50))
                status = try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha).json()["status"] as? String ?? ""
            }
            #expect(status == "ready")
        }
    }

    @Test func errorsNameTheField() async throws {
        let harness = try DocumentsHarness(chunkTokens: 8)
        try await harness.test { client in
            let cases: [(String, String?)] = [
                (#"{"text": "x", "visibility": "everyone"}"#, "visibility"),
                (#"{"text": "x", "chunks": ["y"]}"#, "chunks"),
                (#"{"visibility": "public"}"#, "text"),
                (#"{"text": "\n\n  \n"}"#, "text"),
                (#"{"chunks": []}"#, "chunks"),
                (#"{"chunks": ["ok", ""]}"#, "chunks[1]"),
                (#"{"chunks": ["one two three four five six seven eight nine ten eleven twelve"]}"#, "chunks[0]"),
                (#"{"text": "x", "metadata": [1, 2]}"#, "metadata"),
                (#"{"text": 42}"#, "text"),
            ]
            for (json, param) in cases {
                let response = try await client.post("/v1/documents", json: json, headers: DocumentsHarness.alpha)
                #expect(response.status == .badRequest, "\(json)")
                #expect(try response.apiError().param == param, "\(json): \(String(buffer: response.body))")
            }
            for query in ["?limit=0", "?limit=101", "?limit=x"] {
                let response = try await client.get("/v1/documents\(query)", headers: DocumentsHarness.alpha)
                #expect(response.status == .badRequest)
                #expect(try response.apiError().param == "limit")
            }
            #expect(try await client.get("/v1/documents").status == .unauthorized)
            #expect(try await client.post("/v1/documents", json: #"{"text": "x"}"#).status == .unauthorized)
            #expect(try await client.get("/v1/documents", headers: [.authorization: "Bearer nope"]).status == .unauthorized)
        }
    }

    @Test func restartOnTheSameLibraryKeepsDocumentsAndChunks() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-docs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try DocumentsHarness(directory: directory.path)
        let text = jsonString(DocumentsHarness.text)
        let id: String = try await first.test { client in
            let body = try await client.ingest(#"{"text": \#(text), "metadata": {"k": "v"}}"#, as: DocumentsHarness.alpha)
            return try #require(body["id"] as? String)
        }
        let second = try DocumentsHarness(directory: directory.path)
        try await second.test { client in
            let one = try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.alpha)
            #expect(one.status == .ok)
            #expect(try object(try one.json()["metadata"])["k"] as? String == "v")
            #expect(try await client.get("/v1/documents/\(id)", headers: DocumentsHarness.beta).status == .notFound)
            let again = try await client.ingest(#"{"text": \#(text)}"#, as: DocumentsHarness.alpha)
            #expect(try integer(try object(again["reanchor"])["prefilled_chunks"]) == 0, "the chunks came back from disk")
        }
    }
}

/// The paragraph rule of `TextChunker`, on the embedded tokenizer.
@Suite struct TextChunkerTests {
    @Test func paragraphsAreRunsOfNonBlankLines() {
        #expect(TextChunker.paragraphs(of: "a\nb\n\n  \nc\r\n\r\nd\n") == ["a\nb", "c", "d"])
        #expect(TextChunker.paragraphs(of: "\n \n").isEmpty)
    }

    @Test func chunksNeverExceedTheLimitAndPackWholeParagraphs() throws {
        let tokenizer = try LanguageModel(directory: ServerHarness.modelDirectory).tokenizer
        let paragraphs = DocumentsHarness.text.components(separatedBy: "\n\n")
        let lengths = paragraphs.map { tokenizer.encode($0, addSpecialTokens: false).count }
        // A limit that holds every paragraph alone but no two: one chunk per paragraph, each exactly its tokens.
        let sorted = lengths.sorted()
        let limit = sorted[sorted.count - 1]
        let chunks = TextChunker(tokenizer: tokenizer, maximumTokens: limit).chunks(of: DocumentsHarness.text)
        if sorted[0] + sorted[1] > limit {
            #expect(chunks == paragraphs.map { tokenizer.encode($0, addSpecialTokens: false) })
        }
        // A large limit packs everything into one chunk: the text's paragraphs joined by one blank line.
        let whole = TextChunker(tokenizer: tokenizer, maximumTokens: 1000).chunks(of: DocumentsHarness.text)
        #expect(whole == [tokenizer.encode(paragraphs.joined(separator: "\n\n"), addSpecialTokens: false)])
        // A tiny limit cuts long paragraphs into pieces of at most the limit, covering every token once.
        let pieces = TextChunker(tokenizer: tokenizer, maximumTokens: 5).chunks(of: DocumentsHarness.text)
        #expect(pieces.allSatisfy { $0.count <= 5 && !$0.isEmpty })
        #expect(pieces.flatMap { $0 } == paragraphs.flatMap { tokenizer.encode($0, addSpecialTokens: false) })
    }
}
