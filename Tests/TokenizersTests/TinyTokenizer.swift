import Foundation

/// A small byte-level tokenizer.json that tests edit to make one field bad at a time.
///
/// Vocabulary: `a b c Ġ ab` (ids 0-4, `Ġ` is the byte-level space) and the added token `<s>` (id 5),
/// one merge `a b`, GPT-2's split, and a template that puts `<s>` first.
enum TinyTokenizer {
    static var vocabulary: [String: Any] { ["a": 0, "b": 1, "c": 2, "Ġ": 3, "ab": 4] }

    static func root() -> [String: Any] {
        [
            "model": ["type": "BPE", "vocab": vocabulary, "merges": ["a b"]] as [String: Any],
            "added_tokens": [["id": 5, "content": "<s>", "special": true]],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true] as [String: Any],
            "decoder": ["type": "ByteLevel"],
            "post_processor": [
                "type": "TemplateProcessing",
                "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                "special_tokens": ["<s>": ["id": "<s>", "ids": [5], "tokens": ["<s>"]]],
            ] as [String: Any],
        ]
    }

    /// The JSON of `root()` after `edit`, and with `model` after `editModel`.
    static func json(_ edit: (inout [String: Any]) -> Void = { _ in },
                     model editModel: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
        var object = root()
        var model = object["model"] as? [String: Any] ?? [:]
        editModel(&model)
        object["model"] = model
        edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    /// A `Split` pre-tokenizer with `pattern`, in place of the byte-level one.
    static func split(_ pattern: String) throws -> Data {
        try json { root in
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated"] as [String: Any],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false] as [String: Any],
            ]] as [String: Any]
        }
    }
}
