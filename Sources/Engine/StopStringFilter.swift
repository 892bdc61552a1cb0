/// Holds back streamed text that might be the start of a stop string, and cuts the text at a stop string.
struct StopStringFilter {
    let stopStrings: [String]
    private var held = ""

    init(stopStrings: [String]) { self.stopStrings = stopStrings }

    /// Text safe to emit now, and whether a stop string was found (text after it is dropped).
    mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        held += text
        for stop in stopStrings {
            if let range = held.range(of: stop) {
                let emit = String(held[..<range.lowerBound])
                held = ""
                return (emit, true)
            }
        }
        // Keep the longest suffix that is a prefix of a stop string.
        var keep = 0
        for stop in stopStrings {
            var length = min(stop.count, held.count)
            while length > keep {
                if held.hasSuffix(stop.prefix(length)) { keep = length; break }
                length -= 1
            }
        }
        let split = held.index(held.endIndex, offsetBy: -keep)
        let emit = String(held[..<split])
        held = String(held[split...])
        return (emit, false)
    }

    /// Whatever is held at the end.
    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}
