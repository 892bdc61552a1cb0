import Foundation
import Testing
import Models

/// Inputs from fuzzing and crafted attacks (Fixtures/fuzz/, see scripts/fuzz/): each is an error, never a crash.
/// New crashing inputs found by `scripts/fuzz/run.sh TARGET` go into the matching folder.
@Suite struct FuzzRegressionTests {
    static func inputs(_ target: String) -> [String] {
        let folder = Fixtures.directory.appendingPathComponent("fuzz").appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    static func data(_ target: String, _ name: String) throws -> Data {
        try Data(contentsOf: Fixtures.directory.appendingPathComponent("fuzz").appendingPathComponent(target).appendingPathComponent(name))
    }

    @Test func everyTargetHasRegressionInputs() {
        #expect(Self.inputs("config").count >= 5)
        #expect(Self.inputs("safetensors").count >= 5)
    }

    @Test(arguments: inputs("config"))
    func configInputIsAnError(name: String) throws {
        let data = try Self.data("config", name)
        #expect(throws: ModelError.self) { try ModelConfig(json: data, file: name) }
    }

    @Test(arguments: inputs("safetensors"))
    func safetensorsHeaderInputIsAnError(name: String) throws {
        let data = try Self.data("safetensors", name)
        #expect(throws: ModelError.self) { try SafeTensorsHeader(data, file: name, dataLength: 16 << 20) }
    }
}
