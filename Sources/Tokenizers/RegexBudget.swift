import Foundation

/// Keeps a `Split` pattern from a tokenizer.json from taking exponential time. The regex engine (ICU)
/// backtracks, so a pattern like `(a+)+$` takes 2^n steps on n letters `a` that do not end the text.
/// Two defences:
/// - at load, `RegexBudget.checkNestedRepetition` rejects a repeated group that itself contains a repetition
///   (`(a+)+`, `(?:x\d*)*`, `(a{2,5}){3}`), the classic catastrophic shape. None of the real split patterns
///   (GPT-2, Llama 3, Qwen2) has one;
/// - at run time, `matchRanges(in:)` stops a pattern that still runs too long (`(a|a)+$`) after a work budget
///   proportional to the text, and leaves the rest of the text as one unsplit gap.
enum RegexBudget {
    /// ICU reports progress about every 10,000 matcher steps. Llama 3's pattern on English text reports once
    /// per ~3,700 characters; the budget allows one report per 64 characters, plus 16.
    static func progressReports(forUTF16Count count: Int) -> Int { 16 + count / 64 }  // safe: count / 64 + 16 < Int.max

    /// Throws when `pattern` repeats a group that contains a repetition (star height above one).
    /// - field: the tokenizer.json field the pattern came from, for the error.
    static func checkNestedRepetition(_ pattern: String, field: String) throws {
        let characters = Array(pattern.unicodeScalars)
        /// Whether each open group contains a repetition so far.
        var groups: [Bool] = [false]
        /// Whether the last atom was a group with a repetition inside, and where that group started.
        var lastGroup: (repeats: Bool, start: Int)? = nil
        var groupStarts: [Int] = [0]
        var index = 0

        func fail(_ start: Int, _ end: Int) throws -> Never {
            let excerpt = String(String.UnicodeScalarView(characters[start..<min(end, characters.count)]).prefix(60))
            throw TokenizerError.invalid(field, "the repeated group \(excerpt) contains a repetition: matching it can take exponential time (catastrophic backtracking); rewrite the pattern without nesting quantifiers")
        }
        /// Scalar at `i`, or nil past the end.
        func at(_ i: Int) -> Unicode.Scalar? { i < characters.count ? characters[i] : nil }
        /// Skips a `{...}` starting at `i` (after `\p`, `\x`, `\N`); returns the index after it.
        func skipBraces(_ i: Int) -> Int {
            guard at(i) == "{" else { return i }
            var j = i
            while j < characters.count, characters[j] != "}" { j += 1 }
            return min(j + 1, characters.count)
        }
        /// The `{n}`, `{n,}` or `{n,m}` at `i`: its end and whether it repeats (allows more than one).
        func counted(_ i: Int) -> (end: Int, repeats: Bool)? {
            var j = i + 1
            var numbers: [String] = [""]
            while let c = at(j), c != "}" {
                if c == "," { numbers.append("") } else if ("0"..."9").contains(c) { numbers[numbers.count - 1].unicodeScalars.append(c) } else { return nil }
                j += 1
            }
            guard at(j) == "}", !numbers[0].isEmpty, numbers.count <= 2 else { return nil }
            if numbers.count == 2 && numbers[1].isEmpty { return (j + 1, true) }
            let maximum = numbers.last.flatMap { Int($0) } ?? Int.max
            return (j + 1, maximum > 1)
        }

        while index < characters.count {
            let c = characters[index]
            switch c {
            case "\\":
                let next = at(index + 1)
                if next == "Q" {
                    // \Q...\E quotes literally.
                    var j = index + 2
                    while j < characters.count, !(characters[j] == "\\" && at(j + 1) == "E") { j += 1 }
                    index = min(j + 2, characters.count)
                } else if let next, "pPxN".unicodeScalars.contains(next) {
                    index = skipBraces(index + 2)
                } else {
                    index += 2
                }
                lastGroup = nil
            case "[":
                // A class, possibly with nested sets (ICU: [[a-z]&&[^aeiou]]).
                var depth = 0
                var j = index
                while j < characters.count {
                    let d = characters[j]
                    if d == "\\" { j += 2; continue }
                    if d == "[" { depth += 1 } else if d == "]" {
                        let opensClass = j == index + 1 || (j == index + 2 && characters[index + 1] == "^")
                        if !opensClass { depth -= 1 }
                        if depth == 0 { break }
                    }
                    j += 1
                }
                index = min(j + 1, characters.count)
                lastGroup = nil
            case "(":
                groups.append(false)
                groupStarts.append(index)
                index += 1
                if at(index) == "?" {
                    // (?:  (?i:  (?=  (?!  (?<=  (?<!  (?<name>  (?#comment)  (?i)
                    index += 1
                    if at(index) == "#" {
                        while let d = at(index), d != ")" { index += 1 }
                    } else if at(index) == "<", let d = at(index + 1), d == "=" || d == "!" {
                        index += 2
                    } else if at(index) == "<" {
                        while let d = at(index), d != ">" { index += 1 }
                        index += 1
                    } else {
                        while let d = at(index), "imsxwu-".unicodeScalars.contains(d) { index += 1 }
                        if let d = at(index), ":=!>".unicodeScalars.contains(d) { index += 1 }
                    }
                }
                lastGroup = nil
            case ")":
                if groups.count > 1 {
                    let repeats = groups.removeLast()
                    let start = groupStarts.removeLast()
                    groups[groups.count - 1] = groups[groups.count - 1] || repeats
                    lastGroup = (repeats, start)
                } else {
                    lastGroup = nil
                }
                index += 1
            case "*", "+", "?", "{":
                var end = index + 1
                var repeats = c != "?"
                if c == "{" {
                    guard let quantifier = counted(index) else { index += 1; lastGroup = nil; continue }
                    (end, repeats) = quantifier
                }
                if repeats {
                    if let group = lastGroup, group.repeats { try fail(group.start, end) }
                    groups[groups.count - 1] = true
                }
                // A lazy or possessive modifier is part of this quantifier.
                if let d = at(end), d == "?" || d == "+" { end += 1 }
                index = end
                lastGroup = nil
            default:
                index += 1
                lastGroup = nil
            }
        }
    }
}

extension NSRegularExpression {
    /// Ranges of every match in `text`, as Swift string ranges, within a work budget.
    ///
    /// - Returns: the non-empty matches, and `finished` false when the budget ran out first (the text after
    ///   the last match is then left unmatched).
    func matchRanges(in text: String) -> (ranges: [Range<String.Index>], finished: Bool) {
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        let budget = RegexBudget.progressReports(forUTF16Count: whole.length)
        var ranges: [Range<String.Index>] = []
        var reports = 0
        var finished = true
        enumerateMatches(in: text, options: [.reportProgress], range: whole) { result, flags, stop in
            if let result, let range = Range(result.range, in: text), !range.isEmpty { ranges.append(range) }
            if flags.contains(.progress) {
                reports += 1
                if reports > budget {
                    finished = false
                    stop.pointee = true
                }
            }
        }
        return (ranges, finished)
    }
}
