import CBLAS

extension Matrix {
    /// `output = input · Wᵀ` for quantized `weights` (q8 / q4, `[rows, columns]`): each panel of rows is
    /// dequantized into `panel` (`[panelRows, columns]` f32, exact) and multiplied by one `sgemm` into its
    /// output columns, as `applyPanels` does for 16-bit weights.
    /// - input: `[count, columns]`; output: `[count, rows]` (row stride `rows`).
    func applyQuantPanels(_ weights: UnsafePointer<UInt8>, _ input: UnsafePointer<Float>, count: Int,
                          into output: UnsafeMutablePointer<Float>, panel: inout Scratch, path: KernelPath) {
        let step = panelRows()
        let rowBytes = format.rowBytes(columns: columns)
        let widened = panel.reserve(step * columns)
        var first = 0
        while first < rows {
            let height = min(step, rows - first)
            // A refused path (forced, and missing on this CPU) writes nothing: stop before sgemm reads the scratch.
            guard QuantKernels.dequantize(format, path: path, weights + first * rowBytes, rows: height, columns: columns,
                                          into: widened) else { return }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(height), Int32(columns), 1,
                        input, Int32(columns), widened, Int32(columns), 0, output + first, Int32(rows))
            first += height
        }
    }
}
