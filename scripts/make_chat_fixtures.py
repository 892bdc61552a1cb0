#!/usr/bin/env python3
"""Makes Tests/TemplatesTests/Fixtures/chat_templates.json: real models' chat templates rendered by transformers.

Run once in a scratch virtualenv with transformers and jinja2 (>= 3.1.6):
    python scripts/make_chat_fixtures.py

Every case goes through transformers' own `render_jinja_template` (the function behind
`apply_chat_template(tokenize=False)`: a sandboxed jinja2 environment with trim_blocks and lstrip_blocks,
transformers' tojson, raise_exception, strftime_now, namespace), so the fixture is what transformers renders.
`strftime_now` reads the clock; the script fixes it to FIXED_DATE, which the Swift tests pass as `date:`.
The templates are read from Tests/TemplatesTests/Fixtures/templates (see PROVENANCE.md there).
"""
import datetime as _datetime
import json
import pathlib

import jinja2
import transformers
from transformers.utils import chat_template_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "TemplatesTests" / "Fixtures"
FIXED_DATE = _datetime.datetime(2026, 11, 23, 6, 30, 0)


class _FixedDateTime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_DATE


chat_template_utils.datetime = _FixedDateTime

# template file -> (model, bos_token, eos_token); tokens as in each model's tokenizer_config.json
TEMPLATES = {
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("meta-llama/Llama-3.1-8B-Instruct", "<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct.jinja": ("meta-llama/Llama-3.2-3B-Instruct", "<|begin_of_text|>", "<|eot_id|>"),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("Qwen/Qwen2.5-7B-Instruct", None, "<|im_end|>"),
    "mistralai-Mistral-7B-Instruct-v0.3.jinja": ("mistralai/Mistral-7B-Instruct-v0.3", "<s>", "</s>"),
    "TinyLlama-TinyLlama-1.1B-Chat-v1.0.jinja": ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "<s>", "</s>"),
    "HuggingFaceTB-SmolLM2-1.7B-Instruct.jinja": ("HuggingFaceTB/SmolLM2-1.7B-Instruct", "<|im_start|>", "<|im_end|>"),
}

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
CONVERSATIONS = {
    "user-only": [{"role": "user", "content": "Hello!"}],
    "system-user": [SYSTEM, {"role": "user", "content": "What is 2 + 2?"}],
    "multi-turn-system": [
        SYSTEM,
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ],
    "multi-turn-no-system": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "Tell me a joke."},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ],
    "special-characters": [
        {"role": "system", "content": "  Quotes \" and ' and \\ backslash\n\tindented  "},
        {"role": "user", "content": "Unicode: héllo wörld, 日本語, emoji 🦙👩‍💻, e\u0301, {{ not_a_var }} {% raw %} </s> <|eot_id|>"},
        {"role": "assistant", "content": "\n  Line one\nLine two  \n"},
        {"role": "user", "content": "Tabs\tand\r\nCRLF and trailing spaces   "},
    ],
    "repeated-user-content": [
        {"role": "user", "content": "same"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "same"},
    ],
    "empty-content": [SYSTEM, {"role": "user", "content": ""}],
    "no-alternation": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}],
    "unknown-role": [{"role": "narrator", "content": "Once upon a time"}, {"role": "user", "content": "go on"}],
}


def render(template, messages, add_generation_prompt, bos, eos):
    kwargs = {"eos_token": eos}
    if bos is not None:
        kwargs["bos_token"] = bos
    rendered, _ = chat_template_utils.render_jinja_template(
        conversations=[messages], chat_template=template, add_generation_prompt=add_generation_prompt, **kwargs
    )
    return rendered[0]


def main():
    cases = []
    for file, (model, bos, eos) in TEMPLATES.items():
        template = (FIXTURES / "templates" / file).read_text(encoding="utf-8")
        for name, messages in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                case = {
                    "template": file,
                    "model": model,
                    "conversation": name,
                    "messages": messages,
                    "add_generation_prompt": add_generation_prompt,
                    "bos_token": bos,
                    "eos_token": eos,
                }
                try:
                    case["expected"] = render(template, messages, add_generation_prompt, bos, eos)
                except jinja2.exceptions.TemplateError as error:
                    case["expected_error"] = str(error)
                cases.append(case)
    out = {
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "date": FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cases": cases,
    }
    path = FIXTURES / "chat_templates.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = sum("expected_error" in c for c in cases)
    print(f"wrote {len(cases)} cases ({errors} expected errors) to {path}")


if __name__ == "__main__":
    main()
