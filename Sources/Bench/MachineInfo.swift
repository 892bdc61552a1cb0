import Foundation
import Kernels

/// The machine a speed figure was measured on, for reports whose figures depend on it: CPU model and the
/// instruction sets the kernels probed, cores, load average before and after the run, and the memory read
/// bandwidth measured in the same run (best of a pass before and one after, as `bench decode` does).
public struct MachineInfo: Codable, Sendable {
    /// `model name` of /proc/cpuinfo ("unknown" elsewhere).
    public var cpu_model: String
    /// The probed features the kernels choose from, e.g. "avx2 fma f16c".
    public var cpu_flags: String
    public var kernel_path: String
    public var cores: Int
    /// 1, 5 and 15-minute load averages (/proc/loadavg) when the run started and when it ended.
    public var load_average_before: [Double]
    public var load_average_after: [Double]
    public var measured_read_gb_s: Double?

    /// Reads the machine before a run; `finish` completes it afterwards.
    public static func start(measureBandwidth: Bool) -> MachineInfo {
        MachineInfo(cpu_model: cpuModel(), cpu_flags: KernelPath.cpuFeatureSummary, kernel_path: KernelPath.active.rawValue,
                    cores: ProcessInfo.processInfo.activeProcessorCount, load_average_before: loadAverage(), load_average_after: [],
                    measured_read_gb_s: measureBandwidth ? MemoryBandwidth.measureRead(threads: BLASThreads.count) : nil)
    }

    public mutating func finish(measureBandwidth: Bool) {
        load_average_after = Self.loadAverage()
        if measureBandwidth {
            measured_read_gb_s = max(measured_read_gb_s ?? 0, MemoryBandwidth.measureRead(threads: BLASThreads.count))
        }
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    static func loadAverage() -> [Double] {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }
}
