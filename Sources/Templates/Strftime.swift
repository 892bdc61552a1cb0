import Foundation

/// transformers' `strftime_now(format)` global: `datetime.now().strftime(format)`, here for a given date
/// (UTC) so renders are reproducible. Supports the directives of the C locale that dates use; any other
/// directive is a render error naming it.
enum Strftime {
    private static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"]
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func format(_ format: String, date: Date) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let year = c.year!, month = c.month!, day = c.day!, weekday = c.weekday! - 1
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        func two(_ value: Int) -> String { String(format: "%02d", value) }
        var out = ""
        var scalars = format.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "%" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            guard let directive = scalars.next() else {
                out += "%"
                break
            }
            switch directive {
            case "d": out += two(day)
            case "-": // %-d (glibc): no padding
                guard let next = scalars.next() else { break }
                switch next {
                case "d": out += String(day)
                case "m": out += String(month)
                case "H": out += String(c.hour!)
                default: throw TemplateError(.render, "strftime_now: unsupported directive '%-\(next)'")
                }
            case "m": out += two(month)
            case "Y": out += String(year)
            case "y": out += two(year % 100)
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "a": out += String(weekdays[weekday].prefix(3))
            case "A": out += weekdays[weekday]
            case "H": out += two(c.hour!)
            case "I": out += two((c.hour! + 11) % 12 + 1)
            case "p": out += c.hour! < 12 ? "AM" : "PM"
            case "M": out += two(c.minute!)
            case "S": out += two(c.second!)
            case "j": out += String(format: "%03d", dayOfYear)
            case "w": out += String(weekday)
            case "e": out += String(format: "%2d", day)
            case "F": out += "\(year)-\(two(month))-\(two(day))"
            case "%": out += "%"
            default: throw TemplateError(.render, "strftime_now: unsupported directive '%\(directive)'")
            }
        }
        return out
    }
}
