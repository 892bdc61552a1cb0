import Cache
import Testing
@testable import Documents

/// The library's model geometry is validated when it is made, so it can bound every entry.
@Suite struct ModelGeometryTests {
    @Test(arguments: [("layers", 0, 8, 64), ("kvHeads", 16, -1, 64), ("headDimension", 16, 8, 1 << 40)])
    func fieldsOutsideTheirBoundsThrowNamingTheField(field: String, layers: Int, kvHeads: Int, headDimension: Int) throws {
        let value = ["layers": layers, "kvHeads": kvHeads, "headDimension": headDimension][field] ?? 0
        let reason = value > 0 ? "above the library's maximum 1024" : "must be positive"
        #expect(throws: DocumentsError.invalidGeometry(field: field, value: value, reason: reason)) {
            try ModelGeometry(layers: layers, kvHeads: kvHeads, headDimension: headDimension)
        }
    }

    @Test func aCacheGeometryGivesItsShapeAndWidth() throws {
        let geometry = try ModelGeometry(CacheGeometry(layers: 16, kvHeads: 8, headDimension: 64, capacity: 4096))
        #expect(geometry == (try ModelGeometry(layers: 16, kvHeads: 8, headDimension: 64)))
        #expect(geometry.keyWidth == 512)
    }

    @Test func overflowCheckedArithmeticReportsOverflowAndNegatives() {
        #expect(checkedProduct(1 << 40, 1 << 40) == nil)
        #expect(checkedProduct(2, 3, 7) == 42)
        #expect(checkedProduct(2, -3) == nil)
        #expect(checkedSum(Int.max, 1) == nil)
        #expect(checkedSum(16, 100, 32) == 148)
    }
}
