import Foundation
import Testing
import Models

/// Locations of committed fixtures and of ../shared (beside the checkout).
enum Fixtures {
    static let directory: URL = {
        // safe: the test target declares Fixtures as a copied resource, so it is always in the bundle.
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }()

    static func model(_ name: String) -> URL { directory.appendingPathComponent(name) }

}

/// One prompt of a golden fixture.
struct FixturePrompt: Decodable {
    let tokens: [Int]
    let positions: [Int]
}
