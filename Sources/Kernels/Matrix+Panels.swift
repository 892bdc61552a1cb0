import CBLAS

extension Matrix {
    /// Rows of 16-bit weights widened to f32 per `sgemm`: about 1 MiB of f32 (fits L2 with the packed
    /// input), between 16 and 256 rows.
    func panelRows() -> Int {
        let target = (1 << 18) / max(columns, 1)
        return min(max(target, 16), 256, max(rows, 1))
    }

    /// `output = input · Wᵀ` for 16-bit `weights` `[rows, columns]`: each panel of rows is widened into
    /// `panel` (`[panelRows, columns]` f32) and multiplied by one `sgemm` into its output columns.
    /// - input: `[count, columns]`; output: `[count, rows]` (row stride `rows`).
    func applyPanels(_ weights: UnsafePointer<UInt16>, _ input: UnsafePointer<Float>, count: Int,
                     into output: UnsafeMutablePointer<Float>, panel: inout Scratch, path: KernelPath) {
        let step = panelRows()
        let widened = panel.reserve(step * columns)
        var first = 0
        while first < rows {
            let height = min(step, rows - first)
            HalfKernels.widen(format, path: path, weights + first * columns, count: height * columns, into: widened)
            // C[count, height] (stride rows) = input[count, columns] · widened[height, columns]ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(height), Int32(columns), 1,
                        input, Int32(columns), widened, Int32(columns), 0, output + first, Int32(rows))
            first += height
        }
    }
}
