import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS picks its kernels and thread count when the library loads, before `main` runs, so the
/// environment that tunes it must be set before the process starts. The launcher sets it and re-executes
/// this binary once: `OPENBLAS_CORETYPE=SkylakeX` on AVX-512 CPUs (Debian's build detects Zen 4/5 as
/// Haswell, halving sgemm speed) and `OPENBLAS_NUM_THREADS` = cores. Values already set are respected.
enum Launcher {
    static let marker = "REANCHOR_LAUNCHED"

    static func relaunchWithTunedBLASIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard environment[marker] == nil else { return }
        var changed = false
        if environment["OPENBLAS_CORETYPE"] == nil, cpuHasAVX512() {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
            changed = true
        }
        if environment["OPENBLAS_NUM_THREADS"] == nil {
            setenv("OPENBLAS_NUM_THREADS", String(ProcessInfo.processInfo.activeProcessorCount), 1)
            changed = true
        }
        guard changed else { return }
        setenv(marker, "1", 1)
        let arguments = CommandLine.arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        pointers.append(nil)
        execv("/proc/self/exe", &pointers)
        // execv returns only on failure: carry on with the environment as it was at start.
        for pointer in pointers { free(pointer) }
    }

    static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " "))
        return set.contains("avx512f") && set.contains("avx512bw") && set.contains("avx512vl")
    }
}
