import Foundation

/// Where tests find data beside the checkout.
public enum Locations {
    /// The repository root (for the embedded model and committed fixtures).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared beside the checkout, or nil when absent: tests that need it skip with a message.
    public static let shared: URL? = {
        let candidate = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: candidate.appendingPathComponent("models").path) ? candidate : nil
    }()
}
