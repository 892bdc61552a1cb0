import Foundation

/// A process's memory as Linux reports it in `/proc/PID/status`: resident set now (`VmRSS`) and its peak
/// since the process started (`VmHWM`), in bytes.
public struct ProcessMemory: Sendable, Equatable {
    public var residentBytes: Int
    public var peakResidentBytes: Int

    /// Reads the process `pid`; nil when it does not exist or the file has no such lines (not Linux).
    public static func read(pid: Int32) -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parse(status: text)
    }

    /// Parses the text of a `/proc/PID/status` file (values in kB).
    public static func parse(status: String) -> ProcessMemory? {
        var fields: [String: Int] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            guard parts.count >= 2, parts[0] == "VmRSS" || parts[0] == "VmHWM", let kilobytes = Int(parts[1]),
                  kilobytes >= 0, kilobytes < Int.max / 1024 else { continue }
            fields[String(parts[0])] = kilobytes * 1024
        }
        guard let resident = fields["VmRSS"] else { return nil }
        return ProcessMemory(residentBytes: resident, peakResidentBytes: fields["VmHWM"] ?? resident)
    }
}
