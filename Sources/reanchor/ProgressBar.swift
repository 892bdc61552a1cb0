/// A one-line progress bar on standard error: `label [#####.....] 12/40`.
struct ProgressBar {
    let label: String
    let width = 30
    var enabled = true

    func update(_ done: Int, of total: Int, detail: String = "") {
        guard enabled, total > 0 else { return }
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printError("\r\(label) [\(bar)] \(done)/\(total) \(detail)", terminator: done >= total ? "\n" : "")
    }
}
