import Foundation
import LoadGenerator

/// The table `bench serve` prints: one row per server and concurrency (medians over repeats), then the ratios.
struct ServeBenchTable {
    let report: ServeBenchReport

    func print() {
        let machine = report.machine
        say("machine: \(machine.cpu_model), \(machine.cores) cores, flags \(machine.cpu_flags) (kernels \(machine.kernel_path)); "
            + "load average \(Self.loads(machine.load_average_before)) before, \(Self.loads(machine.load_average_after)) after; "
            + "read bandwidth \(machine.measured_read_gb_s.map { String(format: "%.1f GB/s", $0) } ?? "-")")
        say("\(report.endpoint), \(report.prompt_tokens) prompt tokens, \(report.max_tokens) max tokens, \(report.rounds) rounds x \(report.repeats) repeats, "
            + "ignore_eos \(report.ignore_eos)")
        say("| server | concurrency | aggregate decode tok/s (median, best) | overall tok/s | TTFT p50 / p99 s | TPOT p50 / p99 ms | errors | server RSS max / peak MB |")
        say("|---|---|---|---|---|---|---|---|")
        for level in report.summary.levels {
            say("| \(level.target) | \(level.concurrency) | \(Self.f(level.aggregate_decode_tok_s_median)), \(Self.f(level.aggregate_decode_tok_s_best)) | "
                + "\(Self.f(level.overall_tok_s_median)) | \(Self.f(level.ttft_p50_s, 3)) / \(Self.f(level.ttft_p99_s, 3)) | "
                + "\(Self.f(level.tpot_p50_s.map { $0 * 1000 }, 1)) / \(Self.f(level.tpot_p99_s.map { $0 * 1000 }, 1)) | "
                + "\(level.errors)/\(level.requests) | \(Self.megabytes(level.server_rss_max_bytes)) / \(Self.megabytes(level.server_rss_peak_bytes)) |")
        }
        for ratio in report.summary.ratios {
            if ratio.kind == "scaling" {
                say(String(format: "%@: aggregate decode at concurrency %d / concurrency 1 = %.2fx", ratio.target, ratio.concurrency, ratio.ratio))
            } else {
                say(String(format: "concurrency %d: %@ / %@ aggregate decode = %.2fx", ratio.concurrency, ratio.target, ratio.baseline, ratio.ratio))
            }
        }
        for run in report.runs where run.errors > 0 {
            say("\(run.target) c=\(run.concurrency) run \(run.repeat_index): \(run.errors) errors, e.g. \(run.error_samples.joined(separator: " | "))")
        }
    }

    static func f(_ value: Double?, _ digits: Int = 2) -> String {
        value.map { String(format: "%.\(digits)f", $0) } ?? "-"
    }

    static func megabytes(_ bytes: Int?) -> String {
        bytes.map { String(format: "%.0f", Double($0) / 1e6) } ?? "-"
    }

    static func loads(_ values: [Double]) -> String {
        values.isEmpty ? "-" : values.map { String(format: "%.2f", $0) }.joined(separator: " ")
    }
}
