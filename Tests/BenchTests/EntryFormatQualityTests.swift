import Foundation
import Testing
import Bench
import Documents
import Engine
import TestSupport

/// Re-anchored reuse from compact library entries against the same reuse from f32 entries, on the trained
/// models of ../shared and text they were not trained on: f32 entries reproduce themselves exactly, f16 costs
/// less than bf16, and each compact format stays within a stated bound of KL divergence and top-1 agreement
/// (README, "Compact entries", has the figures of `reanchor bench library-kv`).
@Suite struct EntryFormatQualityTests {
    /// Mean KL from the f32 entries' next-token distribution (nats) per format. Measured on this test's prompts
    /// (3 prompts of 3 chunks of 48 tokens, 69 scored positions): tinystories-656k bf16 4.2e-6, f16 7.4e-8,
    /// q8 1.7e-5; books-5m bf16 4.1e-7, f16 5.7e-9, q8 2.3e-6. Bounds about 10x the larger.
    static let klBound: [KVFormat: Double] = [.bf16: 5e-5, .f16: 1e-6, .q8: 2e-4]
    /// Top-1 agreement with the f32 entries: measured 1.0 for every format on both models; a bound of 0.97 allows
    /// two flips of a near tie in 69 positions.
    static let agreementBound: [KVFormat: Double] = [.bf16: 0.97, .f16: 0.97, .q8: 0.97]

    /// The text at `path` in ../shared; for books-5m's training corpus only its held-out last 3%.
    static func text(_ path: String, heldOut: Bool) throws -> String {
        let shared = try #require(Locations.shared)
        let text = try String(contentsOf: shared.appendingPathComponent(path), encoding: .utf8)
        return heldOut ? String(text.suffix(text.count * 3 / 100)) : text
    }

    @Test(.enabled(if: Locations.shared != nil, "../shared is absent, so the trained models are not available"),
          arguments: [("tinystories-656k", "corpora/tinystories-valid-100/validation_100.txt", false),
                      ("books-5m", "corpora/wikitext2-test/wikitext-2-raw-test.txt", true)])
    func compactEntriesStayCloseToF32Entries(model name: String, corpus: String, heldOut: Bool) async throws {
        let shared = try #require(Locations.shared)
        let languageModel = try LanguageModel(directory: shared.appendingPathComponent("models/\(name)"))
        let experiment = try EntryFormatExperiment(prompts: 3, chunks: 3, chunkTokens: 48, continuationTokens: 24)
        let report = try await experiment.run(languageModel: languageModel, text: try Self.text(corpus, heldOut: heldOut), label: name)
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.kv, $0) })
        let f32 = try #require(rows["f32"])
        #expect(f32.kl_to_f32_entries == 0 && f32.top1_agreement == 1, "f32 entries against themselves")
        for format in [KVFormat.bf16, .f16, .q8] {
            let row = try #require(rows[format.rawValue])
            #expect(row.kl_to_f32_entries > 0, "\(name) \(format): rounding changed nothing, so the test measures nothing")
            #expect(row.kl_to_f32_entries <= Self.klBound[format] ?? 0, "\(name) \(format): KL \(row.kl_to_f32_entries)")
            #expect(row.top1_agreement >= Self.agreementBound[format] ?? 1, "\(name) \(format): top-1 \(row.top1_agreement)")
            #expect(row.bytes_per_token < f32.bytes_per_token)
        }
        #expect(try #require(rows["f16"]).kl_to_f32_entries < (try #require(rows["bf16"])).kl_to_f32_entries,
                "\(name): f16 keeps 3 more mantissa bits than bf16")
    }
}
