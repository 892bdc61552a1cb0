import CKernels
import Foundation

/// The instruction-set path of the C weight kernels, chosen at run time from the CPU's features.
///
/// The binary is built for x86-64-v3 (AVX2, FMA, F16C); the AVX-512 kernels are compiled per function and
/// only run where the CPU (and OS) support AVX-512F and BW. `REANCHOR_KERNELS=scalar|avx2|avx512` forces a
/// path for tests and comparisons; forcing one the CPU lacks is refused (`validatedEnvironment()` throws,
/// and `active` keeps the best supported path), never executed.
public enum KernelPath: String, Sendable, CaseIterable {
    case scalar, avx2, avx512

    /// The environment variable that forces a path.
    public static let environmentKey = "REANCHOR_KERNELS"

    var code: Int32 {
        switch self {
        case .scalar: Int32(CK_PATH_SCALAR)
        case .avx2: Int32(CK_PATH_AVX2)
        case .avx512: Int32(CK_PATH_AVX512)
        }
    }

    /// Whether this CPU can run the path.
    public var isSupported: Bool { ck_path_supported(code) != 0 }

    /// The widest path this CPU supports.
    public static var best: KernelPath {
        switch Int(ck_best_path()) {
        case CK_PATH_AVX512: .avx512
        case CK_PATH_AVX2: .avx2
        default: .scalar
        }
    }

    /// The path the kernels use: the one `REANCHOR_KERNELS` forces when valid and supported, else `best`.
    public static let active: KernelPath = (try? validatedEnvironment()) ?? best

    /// The path forced by `REANCHOR_KERNELS`, or `best` when unset. Throws when the value is not a path or
    /// names one this CPU cannot run.
    public static func validatedEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelPath {
        guard let value = environment[environmentKey], !value.isEmpty else { return best }
        guard let path = KernelPath(rawValue: value) else {
            throw KernelPathError(message: "\(environmentKey)=\(value) is not one of scalar, avx2, avx512")
        }
        guard path.isSupported else {
            throw KernelPathError(message: "\(environmentKey)=\(value): this CPU lacks \(path.requirements) (features: \(cpuFeatureSummary))")
        }
        return path
    }

    /// The CPU features the path needs.
    public var requirements: String {
        switch self {
        case .scalar: "nothing"
        case .avx2: "avx2, fma, f16c"
        case .avx512: "avx512f, avx512bw (with avx2, fma, f16c)"
        }
    }

    /// The probed features, e.g. "avx2 fma f16c avx512f avx512bw avx512vl avx512bf16".
    public static var cpuFeatureSummary: String {
        let features = ck_cpu_features()
        let names: [(UInt32, String)] = [(UInt32(CK_CPU_AVX2), "avx2"), (UInt32(CK_CPU_FMA), "fma"), (UInt32(CK_CPU_F16C), "f16c"),
                                         (UInt32(CK_CPU_AVX512F), "avx512f"), (UInt32(CK_CPU_AVX512BW), "avx512bw"),
                                         (UInt32(CK_CPU_AVX512VL), "avx512vl"), (UInt32(CK_CPU_AVX512BF16), "avx512bf16")]
        let present = names.filter { features & $0.0 != 0 }.map(\.1)
        return present.isEmpty ? "none of avx2/fma/f16c/avx512" : present.joined(separator: " ")
    }
}

/// A kernel path that cannot be used here.
public struct KernelPathError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
