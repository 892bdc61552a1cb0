import Foundation
import Testing

/// Scratch copies of fixture models that a test may damage.
protocol ScratchModels {}

extension ScratchModels {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reanchor-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of a fixture model whose files can be damaged.
    func copyOfFixture(_ name: String = "llama-tied") throws -> URL {
        let target = try temporaryDirectory()
        for file in try FileManager.default.contentsOfDirectory(atPath: Fixtures.model(name).path) {
            try FileManager.default.copyItem(at: Fixtures.model(name).appendingPathComponent(file), to: target.appendingPathComponent(file))
        }
        return target
    }

    func editConfig(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }
}
