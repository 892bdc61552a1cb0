/// Python `str` operations over Unicode scalars (Python strings are sequences of code points).
enum Strings {
    static func scalars(_ string: String) -> [Unicode.Scalar] { Array(string.unicodeScalars) }

    static func make<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Index (in scalars) of the first occurrence of `needle` at or after `from`.
    static func find(_ needle: String, in haystack: String, from: Int = 0) -> Int? {
        find(scalars(needle), in: scalars(haystack), from: from)
    }

    static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from: Int = 0) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        if needle.isEmpty { return min(from, haystack.count) }
        var index = from
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Code-point order, as Python compares strings.
    static func compare(_ a: String, _ b: String) -> Int {
        for (x, y) in zip(a.unicodeScalars, b.unicodeScalars) where x != y {
            return x.value < y.value ? -1 : 1
        }
        let (m, n) = (a.unicodeScalars.count, b.unicodeScalars.count)
        return m < n ? -1 : (m > n ? 1 : 0)
    }

    static func hasPrefix(_ string: String, _ prefix: String) -> Bool {
        let s = scalars(string), p = scalars(prefix)
        return p.count <= s.count && s[0..<p.count].elementsEqual(p)
    }

    static func hasSuffix(_ string: String, _ suffix: String) -> Bool {
        let s = scalars(string), p = scalars(suffix)
        return p.count <= s.count && s[(s.count - p.count)...].elementsEqual(p)
    }

    /// `str.strip` / `lstrip` / `rstrip`: whitespace by default, else any of the given characters.
    static func strip(_ string: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func remove(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? scalar.isPythonWhitespace }
        var s = scalars(string)[...]
        if leading { while let first = s.first, remove(first) { s = s.dropFirst() } }
        if trailing { while let last = s.last, remove(last) { s = s.dropLast() } }
        return make(s)
    }

    /// `str.split(separator, maxsplit)`; no separator splits on runs of whitespace and drops empty parts.
    static func split(_ string: String, separator: String?, maximum: Int) throws -> [String] {
        let s = scalars(string)
        var parts: [String] = []
        guard let separator else {
            var current: [Unicode.Scalar] = []
            var index = 0
            while index < s.count {
                if s[index].isPythonWhitespace {
                    if !current.isEmpty {
                        parts.append(make(current))
                        current = []
                        if maximum >= 0 && parts.count == maximum {
                            var rest = s[index...].drop { $0.isPythonWhitespace }
                            if !rest.isEmpty {
                                parts.append(make(rest))
                                rest = []
                            }
                            return parts
                        }
                    }
                } else {
                    current.append(s[index])
                }
                index += 1
            }
            if !current.isEmpty { parts.append(make(current)) }
            return parts
        }
        let sep = scalars(separator)
        guard !sep.isEmpty else { throw TemplateError(.render, "split(): empty separator") }
        var start = 0
        while maximum < 0 || parts.count < maximum, let found = find(sep, in: s, from: start) {
            parts.append(make(s[start..<found]))
            start = found + sep.count
        }
        parts.append(make(s[start...]))
        return parts
    }

    /// `str.replace(old, new, count)`.
    /// Throws when the result would pass `maximumResultLength` characters (a replacement can multiply a
    /// string's length; the check runs before the text is built).
    static func replace(_ string: String, _ old: String, _ new: String, count: Int) throws -> String {
        let s = scalars(string), o = scalars(old), n = scalars(new)
        var out: [Unicode.Scalar] = []
        var replaced = 0
        func grow(by extra: Int) throws {
            guard out.count + extra <= maximumResultLength else {
                throw TemplateError(.limit, "replace() would build more than \(maximumResultLength) characters")
            }
        }
        if o.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            for scalar in s {
                if count < 0 || replaced < count { try grow(by: n.count + 1); out += n; replaced += 1 }
                out.append(scalar)
            }
            if count < 0 || replaced < count { out += n }
            return make(out)
        }
        var index = 0
        while index < s.count {
            if (count < 0 || replaced < count), let found = find(o, in: s, from: index) {
                try grow(by: found - index + n.count)
                out += s[index..<found]
                out += n
                index = found + o.count
                replaced += 1
            } else {
                out += s[index...]
                break
            }
        }
        return make(out)
    }

    /// The longest string `replace` builds: the default render output limit.
    static let maximumResultLength = 16 << 20

    /// Python `str.capitalize()`: first character upper-cased, the rest lower-cased.
    static func capitalize(_ string: String) -> String {
        let s = scalars(string)
        guard let first = s.first else { return "" }
        return String(first).uppercased() + make(s.dropFirst()).lowercased()
    }

    /// Python's `str.title()`: a cased character is upper-cased after an uncased one, lower-cased after a cased one.
    static func pythonTitle(_ string: String) -> String {
        var out = ""
        var previousCased = false
        for scalar in string.unicodeScalars {
            let text = String(scalar)
            let lower = text.lowercased(), upper = text.uppercased()
            if lower != upper {
                out += previousCased ? lower : upper
                previousCased = true
            } else {
                out += text
                previousCased = false
            }
        }
        return out
    }

    /// jinja2's `title` filter: split before runs of `-`, whitespace, `(`, `{`, `[`, `<`, then capitalize each piece.
    static func title(_ string: String) -> String {
        var pieces: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var inSeparator = false
        func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isPythonWhitespace || ["-", "(", "{", "[", "<"].contains(scalar)
        }
        for scalar in string.unicodeScalars {
            let separator = isSeparator(scalar)
            if separator != inSeparator && !current.isEmpty {
                pieces.append(current)
                current = []
            }
            inSeparator = separator
            current.append(scalar)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces.map { piece in
            String(piece[0]).uppercased() + make(piece.dropFirst()).lowercased()
        }.joined()
    }
}
