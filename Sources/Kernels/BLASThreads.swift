import CBLAS

/// The one place that talks to OpenBLAS's thread pool and kernel selection.
///
/// The engine runs its hot loops on the calling thread and leaves parallelism to OpenBLAS, so the pool
/// size is the number of cores and nothing else spins up threads next to it.
public enum BLASThreads {
    /// Threads OpenBLAS uses for one call.
    public static var count: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS chose ("Haswell", "SkylakeX", ...).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
