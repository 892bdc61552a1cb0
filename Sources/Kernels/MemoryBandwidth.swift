import CKernels

/// Measures the machine's streaming read bandwidth: the roofline for decode, which reads every weight
/// once per token. Measured in the same run as the decode figures, since this machine is noisy.
public enum MemoryBandwidth {
    /// GB/s reading `bytes` (default 1 GiB, well past every cache) with `threads` threads, best of `repeats`.
    public static func measureRead(bytes: Int = 1 << 30, threads: Int, repeats: Int = 3) -> Double {
        ck_read_bandwidth(bytes, Int32(threads), Int32(repeats))
    }
}
