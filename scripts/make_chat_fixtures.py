#!/usr/bin/env python3
"""Makes Tests/TemplatesTests/Fixtures/chat_templates.json: real models' chat templates rendered by transformers.

Run once in a scratch virtualenv with transformers and jinja2 (>= 3.1.6):
    python scripts/make_chat_fixtures.py

Every case goes through transformers' own `render_jinja_template` (the function behind
`apply_chat_template(tokenize=False)`: a sandboxed jinja2 environment with trim_blocks and lstrip_blocks,
transformers' tojson, raise_exception, strftime_now, namespace), so the fixture is what transformers renders;
each real-template case is also rendered through a tokenizer's public `apply_chat_template` and must agree.
The script is deterministic: running it again rewrites the same fixtures.
`strftime_now` reads the clock; the script fixes it to FIXED_DATE, which the Swift tests pass as `date:`.
The templates are read from Tests/TemplatesTests/Fixtures/templates (see PROVENANCE.md there).
"""
import datetime as _datetime
import json
import pathlib
import random
import warnings

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


# Small templates, one construct each, rendered through the same transformers environment with these messages.
SNIPPET_MESSAGES = [
    {"role": "system", "content": " Sys "},
    {"role": "user", "content": "Hi \"there\" é"},
]
SNIPPETS = {
    "lstrip-trim-blocks": "a\n  {% if true %}\n    b\n  {% endif %}\nc",
    "dash-control": "x {%- if true -%}  y  {%- endif -%}  z\n{{- ' w ' -}}\n v",
    "variable-not-lstripped": "  {{ 'v' }}  \n{% if true %}y{% endif %}",
    "trailing-newline-dropped": "{% if true %}a{% endif %}\nb\n",
    "comments": "{# comment #}\nx{#- c -#}  y\n  {# indented #}\nz",
    "plus-modifiers": "  {%+ if true %}a{% endif +%}\nb",
    "block-on-same-line": "a {% if true %} b {% endif %} c\n{% for x in [1] %} {{ x }} {% endfor %}",
    "crlf-source": "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc",
    "loop-variables": "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }},{% endfor %}",
    "loop-else": "{% for x in [] %}x{% else %}empty{% endfor %}",
    "loop-filter": "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}",
    "loop-controls": "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "loop-scope": "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
    "loop-nested": "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}",
    "loop-cycle-previtem": "{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }}{% endfor %}",
    "loop-unpack": "{% for k, v in {'a': 1, 'b': [1, 'x']}.items() %}{{ k }}={{ v }};{% endfor %}",
    "loop-over-dict-and-string": "{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}{% for c in 'héllo' %}{{ c }}.{% endfor %}",
    "namespace": "{% set ns = namespace(x=false, n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% set ns.x = true %}{% endfor %}{{ ns.n }} {{ ns.x }}",
    "namespace-empty": "{% set ns = namespace() %}{% set ns.index = 0 %}{% set ns.index = ns.index + 1 %}{{ ns.index }}",
    "set-block": "{% set v %}A{{ 1 + 1 }}{% endset %}[{{ v }}]",
    "set-shadow-messages": "{% set messages = messages[1:] %}{{ messages | length }}{{ messages[0].role }}",
    "literals": "{{ 'a\\tb\\n' }}{{ \"q'\" }}{{ 1.5 }}{{ 10 }}{{ -3 }}{{ true }}{{ none }}{{ [1, 'a', none, true] }}{{ {'k': 'v', 'n': 1.0} }}{{ 'x' 'y' }}",
    "string-escapes": "{{ '\\u00e9\\x41\\\\n\\'' }}|{{ \"\\\"\" }}|{{ 'a\\qb' }}",
    "repr-of-strings": "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', 'tab\\t'] }}",
    "floats": "{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.0e-5 }} {{ 3.0 }} {{ 2.5e3 }} {{ 7 / 2 }} {{ 1 / 3 }} {{ 10 / 5 }}",
    "arithmetic": "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ 1 + 1.5 }} {{ [1] + [2] }} {{ 10 - 2 - 3 }}",
    "unary-and-filters": "{{ -3 | abs }} {{ - 2 ** 2 }} {{ not true | string }}",
    "comparisons": "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'x' in 'xyz' }} {{ 'q' not in ['a'] }} {{ 'role' in messages[0] }} {{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ none == false }}",
    "logic": "{{ 1 and 'x' }} {{ 0 or 'y' }} {{ not none }} {{ 'a' if false else 'b' }} {{ 'a' if true }}[{{ 'a' if false }}] {{ none or [] }}",
    "access": "{{ messages[0].role }} {{ messages[-1]['content'] }} {{ messages[1:] | length }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1, 2, 3, 4][::2] }} {{ messages[0].missing is defined }} {{ 'abc'[-1] }} {{ [1, 2, 3][-2:] }} {{ [1, 2, 3][:-1] }} {{ [1, 2][5:] }}",
    "undefined": "[{{ nothing }}]{% if nothing %}x{% endif %}{{ nothing | length }}{% for x in nothing %}y{% endfor %}{{ nothing is defined }}{{ nothing is undefined }}{{ nothing | default('d') }}{{ nothing == nothing }}[{{ nothing | trim }}][{{ nothing ~ 'x' }}]",
    "tests": "{{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.0 is float }} {{ 1 is integer }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 3 is odd }} {{ 4 is divisibleby 2 }} {{ 1 is not none }} {{ true is boolean }} {{ 'a' is in 'abc' }} {{ none is sameas none }} {{ 2 is eq 2 }} {{ 'a' is equalto('a') }} {{ 1 is string }} {{ messages is sequence }} {{ 'ab' is lower }}",
    "filters": "{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello world-foo (bar' | title }}|{{ 'hELLO wORLD' | capitalize }}|{{ [1, 2] | join(', ') }}|{{ ['a', 'b'] | join }}|{{ '' | default('e', true) }}|{{ none | default('n') }}|{{ 42 | string }}|{{ '12' | int + 1 }}|{{ 'x' | int }}|{{ '2.5' | float }}|{{ [3, 1] | first }}|{{ [3, 1] | last }}|{{ 'abc' | list }}|{{ [1, 1, 2] | unique | list }}|{{ [1, 2] | reverse | list }}|{{ 'a-b' | replace('-', '+') }}|{{ 'xyz' | length }}|{{ {'a': 1} | length }}|{{ 'ab' | trim('a') }}|{{ 'x' | d('y') }}|{{ 'x' | safe }}|{{ 3.7 | int }}",
    "tojson": "{{ messages | tojson }}|{{ {'a': [1, 2.5, none, true], 'b': 'é\"\\n\\u0001'} | tojson(indent=2) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ '日本🦙' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=4) }}|{{ {'x': {}, 'y': [[]]} | tojson(indent=2) }}|{{ 1.0 | tojson }}|{{ 'a</b>&' | tojson }}|{{ [1, 2] | tojson(separators=[',', ':']) }}",
    "select-reject": "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join }}|{{ [0, 1, 2] | select | list }}|{{ ['a', 'code_interpreter'] | reject('equalto', 'code_interpreter') | join(', ') }}|{{ messages | map(attribute='role') | list }}|{{ ['a', 'B'] | map('upper') | join }}|{{ messages | selectattr('missing') | list }}",
    "items-filter": "{% for k, v in {'x': 1, 'y': 'z'} | items %}{{ k }}{{ v }}{% endfor %}",
    "string-methods": "{{ ' a b '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'x</think>y'.split('</think>')[-1] }}|{{ 'hello world'.title() }}|{{ 'abc'.find('c') }}|{{ 'banana'.count('a') }}|{{ '-'.join(['a', 'b']) }}",
    "dict-methods": "{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 'z') }}{{ {'a': 1}.get('b') }}{{ {'a': 1}.keys() | list }}{{ {'a': 1}.values() | list }}{{ {'a': 1}['items'] is defined }}",
    "raise-exception": "{% if messages[0].role == 'system' %}{{ raise_exception('Bad: ' ~ messages[0].role) }}{% endif %}",
    "strftime-now": "{{ strftime_now('%d %b %Y|%B|%A|%a|%H:%M:%S|%j|%y|%m|%I%p|%%') }}",
    "generation-block": "{% generation %}gen{% endgeneration %}",
    "unicode-by-code-point": "{{ 'é' | length }} {{ messages[1].content | length }} {{ 'e\\u0301' == '\\u00e9' }} {{ 'e\\u0301' | length }} {{ '🦙'[0] }} {{ 'ß' | upper }}",
    "conversation-equality": "{% set users = messages | selectattr('role', 'equalto', 'user') | list %}{% for m in messages %}{{ m == users[-1] }}{% endfor %}",
    "bos-eos": "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|{{ documents is defined }}|{{ add_generation_prompt }}",
    "dict-literal-iteration": "{% for key, val in {'name': 'f', 'return': 1, 'x': [1]}.items() if key != 'return' %}{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}",
    "whitespace-in-output-strip": "A{{- '  ' -}}B  {%- set x = 1 -%}  C",
    "add-string-number-error": "{{ 'a' + 1 }}",
    "undefined-attribute-error": "{{ nothing.role }}",
}


# Random templates over the supported subset (seeded), rendered by transformers' environment: a differential
# test of the whole interpreter. Cases whose jinja2 output holds a Python object address ("<generator object
# ... at 0x...>") or a dict view repr are dropped: they are not reproducible text.
RNG = random.Random(20261123)
STR = ["'a'", "'Hi'", "' x '", "'é'", "'a,b'", "\"q'\"", "'\\n'", "'</s>'", "''", "'AbC dEf'", "'3'", "'2.5'"]
ATOM = ["1", "0", "-2", "2.5", "0.1", "true", "false", "none", "messages", "messages[0]", "messages[-1]",
        "messages[0].role", "messages[1]['content']", "m", "x", "undefined_name", "[1, 2, 3]", "[]", "{'a': 1, 'b': 'c'}",
        "{}", "ns.v", "loop.index", "loop.last"] + STR
FILTERS = ["trim", "length", "upper", "lower", "title", "capitalize", "tojson", "string", "first", "last",
           "join(',')", "join", "default('d')", "list", "reverse", "int", "float", "tojson(indent=2)", "items", "unique",
           "map(attribute='role')", "selectattr('role', 'equalto', 'user')", "reject('equalto', 1)", "abs", "count",
           "replace('a', 'b')", "default('z', true)", "trim('x')", "select", "d"]
TESTS = ["defined", "none", "string", "number", "mapping", "iterable", "odd", "even", "integer", "float",
         "boolean", "sequence", "divisibleby(2)", "equalto(1)", "in([1, 2])", "lower", "undefined", "true", "false"]
METHODS = [".strip()", ".upper()", ".lower()", ".split(',')", ".split()", ".startswith('a')", ".endswith('b')",
           ".replace('a', 'x')", ".lstrip()", ".rstrip('x')", ".title()", ".items()", ".keys()", ".get('a')", "[1:]",
           "[::-1]", "[0]", "[-1]", "[:2]", ".find('a')"]
BIN = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"]

def expr(d=0):
    r = RNG.random()
    if d > 2 or r < 0.3:
        e = RNG.choice(ATOM)
    elif r < 0.45:
        e = expr(d + 1) + " | " + RNG.choice(FILTERS)
    elif r < 0.55:
        e = expr(d + 1) + " is " + RNG.choice(["", "not "]) + RNG.choice(TESTS)
    elif r < 0.65:
        e = "(" + expr(d + 1) + ")" + RNG.choice(METHODS)
    elif r < 0.85:
        e = expr(d + 1) + " " + RNG.choice(BIN) + " " + expr(d + 1)
    elif r < 0.92:
        e = "not " + expr(d + 1)
    else:
        e = expr(d + 1) + " if " + expr(d + 1) + " else " + expr(d + 1)
    return e

WS = ["", " ", "\n", "  \n  ", "\n\n", "\t", " x ", "\n  y\n"]
def open_(t):
    return "{%" + RNG.choice(["", "-", "+", ""]) + " " + t + " " + RNG.choice(["", "-", "+", ""]) + "%}"
def out():
    return "{{" + RNG.choice(["", "-"]) + " " + expr() + " " + RNG.choice(["", "-"]) + "}}"
def body(d=0):
    parts = []
    for _ in range(RNG.randint(1, 3)):
        r = RNG.random()
        parts.append(RNG.choice(WS))
        if d < 2 and r < 0.2:
            parts.append(open_("if " + expr()) + body(d + 1) + (open_("else") + body(d + 1) if RNG.random() < 0.5 else "") + open_("endif"))
        elif d < 2 and r < 0.4:
            it = RNG.choice(["messages", "[1, 2, 3]", "'ab'", "{'k': 1}", "range(3)", "[]", "undefined_name"])
            parts.append(open_("for m in " + it + (" if m" if RNG.random() < 0.2 else "")) + body(d + 1) + open_("endfor"))
        elif r < 0.5:
            parts.append(open_("set x = " + expr()))
        elif r < 0.55:
            parts.append(open_("set ns.v = " + expr()))
        elif r < 0.6:
            parts.append("{#" + RNG.choice(["", "-"]) + " c " + RNG.choice(["", "-"]) + "#}")
        else:
            parts.append(out())
        parts.append(RNG.choice(WS))
    return "".join(parts)



def random_cases(count):
    cases = []
    while len(cases) < count:
        template = "{% set ns = namespace(v=1) %}" + RNG.choice(["", "\n", "  "]) + body()
        case = {"name": f"random-{len(cases)}", "template": template}
        try:
            case["expected"] = render(template, SNIPPET_MESSAGES, True, "<s>", "</s>")
            if " at 0x" in case["expected"].lower() or "dict_" in case["expected"].lower():
                continue
        except Exception as error:  # noqa: BLE001 - the class is recorded
            case["expected_error"] = str(error)[:300]
            case["error_class"] = type(error).__name__
        cases.append(case)
    return cases


def snippet_cases():
    cases = []
    for name, template in SNIPPETS.items():
        case = {"name": name, "template": template}
        try:
            case["expected"] = render(template, SNIPPET_MESSAGES, True, "<s>", "</s>")
        except Exception as error:  # noqa: BLE001 - the class is recorded and checked
            case["expected_error"] = str(error)
            case["error_class"] = type(error).__name__
        cases.append(case)
    return cases


def render(template, messages, add_generation_prompt, bos, eos):
    kwargs = {"eos_token": eos}
    if bos is not None:
        kwargs["bos_token"] = bos
    rendered, _ = chat_template_utils.render_jinja_template(
        conversations=[messages], chat_template=template, add_generation_prompt=add_generation_prompt, **kwargs
    )
    return rendered[0]


def apply_chat_template(template, messages, add_generation_prompt, bos, eos):
    """The same render through a tokenizer object's `apply_chat_template`, the public API (a cross-check)."""
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(ROOT / "models" / "books-5m" / "tokenizer.json"))
    tokenizer.chat_template = template
    tokenizer.bos_token = bos
    tokenizer.eos_token = eos
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


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
                    via_tokenizer = apply_chat_template(template, messages, add_generation_prompt, bos, eos)
                    assert via_tokenizer == case["expected"], (file, name, add_generation_prompt)
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
    snippets = {"messages": SNIPPET_MESSAGES, "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True,
                "date": out["date"], "cases": snippet_cases()}
    (FIXTURES / "constructs.json").write_text(json.dumps(snippets, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    warnings.simplefilter("ignore", SyntaxWarning)  # jinja2 compiles some random constants like `1[0]`
    randoms = {**{k: v for k, v in snippets.items() if k != "cases"}, "cases": random_cases(1500)}
    (FIXTURES / "random_templates.json").write_text(json.dumps(randoms, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(randoms['cases'])} random template cases")
    print(f"wrote {len(snippets['cases'])} construct cases to {FIXTURES / 'constructs.json'}")
    print(f"wrote {len(cases)} cases ({errors} expected errors) to {path}")


if __name__ == "__main__":
    main()
