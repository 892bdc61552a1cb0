import Foundation
import Testing
import Engine
import Models
import TestSupport

/// The in-memory weight format is part of the model fingerprint: books-5m kept as bf16 (its stored dtype) and
/// the same checkpoint widened to f32 produce K/V that differ in the last bits, so they never share entries.
@Suite struct WeightFormatFingerprintTests {
    @Test func widenedModelHasAnotherFingerprint() throws {
        let directory = repositoryRoot.appendingPathComponent("models/books-5m")
        let kept = try LanguageModel(directory: directory, weights: .auto)
        let explicit = try LanguageModel(directory: directory, weights: .bf16)
        let widened = try LanguageModel(directory: directory, weights: .f32)
        #expect(kept.model.weights.formatDescription == "bf16")
        #expect(widened.model.weights.formatDescription == "f32")
        #expect(kept.fingerprint.model == explicit.fingerprint.model)
        #expect(kept.fingerprint.model != widened.fingerprint.model)
    }
}
