import CBLAS

extension Matrix {
    /// Rows of 16-bit weights widened to f32 per `sgemm`: about `panelElements` floats (8 MiB, which stays
    /// in the last-level cache until sgemm packs it), a multiple of 16 between 64 and 2048 rows. Smaller
    /// panels made sgemm calls too narrow: 1B-shape prefill at 1 MiB ran at half the f32 speed, at 4 MiB
    /// at 72%, at 8 MiB at 85% (one run each on a shared machine).
    func panelRows() -> Int {
        let target = (Self.panelElements / max(columns, 1)) & ~15
        return min(max(target, 64), 2048, max(rows, 1))
    }

    static let panelElements = 1 << 21

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
            // A refused path (forced, and missing on this CPU) widens nothing: stop before sgemm reads the scratch.
            guard HalfKernels.widen(format, path: path, weights + first * columns, count: height * columns, into: widened) else { return }
            // C[count, height] (stride rows) = input[count, columns] · widened[height, columns]ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(height), Int32(columns), 1,
                        input, Int32(columns), widened, Int32(columns), 0, output + first, Int32(rows))
            first += height
        }
    }
}
