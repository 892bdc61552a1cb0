import Foundation
import Kernels

extension Checkpoint {
    /// The dtype tensor `name` (following an alias) is stored in, checked to have `shape`.
    public func dtype(_ name: String, shape: [Int]) throws -> DType { try info(name, shape: shape).dtype }

    /// Reads tensor `name` (`shape` = `[rows, matrix.columns]`) into rows `firstRow..<firstRow + rows` of
    /// `matrix`, in the matrix's format, rejecting NaN and infinite values (also those a conversion to f16
    /// overflows to, and q8 / q4 blocks whose scale overflows f16). The caller sized `matrix` from the same
    /// checked shapes.
    public func read(_ name: String, shape: [Int], into matrix: Matrix, firstRow: Int) throws {
        let (file, info) = try checked(name, shape: shape)
        guard shape.count == 2, shape[1] == matrix.columns, firstRow >= 0, firstRow <= matrix.rows - shape[0] else {
            throw ModelError.shapeMismatch(file: file.name, tensor: name, expected: [matrix.rows - firstRow, matrix.columns], found: shape)
        }
        let offset = firstRow * matrix.columns  // safe: inside the matrix (checked above)
        switch matrix.storage {
        case .f32(let buffer):
            try read(name, shape: shape, into: buffer.pointer + offset)
        case .bf16(let buffer), .f16(let buffer):
            let destination = buffer.pointer + offset
            file.read(info, as: matrix.format, into: destination)
            if let index = HalfKernels.firstNonFinite(matrix.format, destination, count: info.elementCount) {
                throw ModelError.nonFiniteWeight(file: file.name, tensor: info.name, index: index)
            }
        case .q8(let buffer), .q4(let buffer):
            try readQuantized(name, shape: shape, into: buffer.pointer + firstRow * matrix.format.rowBytes(columns: matrix.columns),
                              format: matrix.format, file: file.name)
        }
    }

    /// Quantizes tensor `name` (`[rows, columns]`, any dtype) into q8 / q4 rows at `destination`: read as f32
    /// into a transient buffer (NaN and infinity refused there), then quantized row by row.
    private func readQuantized(_ name: String, shape: [Int], into destination: UnsafeMutablePointer<UInt8>,
                               format: StorageFormat, file: String) throws {
        let (rows, columns) = (shape[0], shape[1])
        let wide = FloatBuffer(count: rows * columns)  // safe: shape checked against the file's byte range
        try read(name, shape: shape, into: wide.pointer)
        do {
            try QuantKernels.quantize(format, wide.pointer, rows: rows, columns: columns, into: destination)
        } catch {
            throw ModelError.invalidInput("\(file): tensor '\(name)': the block of 32 values at index \(error.index) "
                                          + "cannot be quantized to \(format.rawValue) (its scale exceeds f16's range)")
        }
    }
}

extension SafeTensorsFile {
    /// The file's name without its directory.
    var name: String { (path as NSString).lastPathComponent }
}
