#!/usr/bin/env python3
"""Golden fixtures from the Hugging Face reference implementation.

Run once in a scratch virtualenv with `torch`, `transformers`, `tokenizers` and `safetensors` from PyPI:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers tokenizers safetensors
    /tmp/venv/bin/python scripts/make_fixtures.py [--shared ../shared]

Writes (all small, committed):
  Tests/ModelsTests/Fixtures/<name>/            tiny random checkpoints (config.json, safetensors)
      expected.safetensors                      logits[i]: [tokens, vocab] f32 for prompt i
      prompts.json                              [{"tokens": [...], "positions": [...]}]
  Tests/ModelsTests/Fixtures/trained.json       greedy continuations and perplexity of ../shared models
  Tests/TokenizersTests/Fixtures/tokenizers.json  ids from HF tokenizers for tricky texts
The Swift tests never run Python; they only read these files.
"""
import argparse, json, math, os, shutil
import torch
from safetensors.torch import save_file, load_file
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "Tests/ModelsTests/Fixtures")
TOKENIZERS = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures")

TINY = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=96, max_position_embeddings=256, rms_norm_eps=1e-5,
            bos_token_id=1, eos_token_id=2)

PROMPTS = [
    {"tokens": [1, 17, 42, 5, 77, 63, 8, 91, 30], "positions": list(range(9))},
    {"tokens": [1, 3], "positions": [0, 1]},
    # Explicit positions that do not start at 0: position is an argument, not a counter.
    {"tokens": [1, 50, 60, 70, 80, 90, 11], "positions": list(range(100, 107))},
]


def randomize(model, seed):
    """Random weights with a spread wide enough that every layer matters (init is near zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


# Prompts longer than the sliding window of the Mistral window fixture (4 tokens), so it is crossed.
SLIDING_PROMPTS = PROMPTS + [
    {"tokens": [1, 9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 12, 24, 48, 6, 3], "positions": list(range(16))},
]


def logits_for(model, prompts=PROMPTS):
    out = {}
    for i, prompt in enumerate(prompts):
        ids = torch.tensor([prompt["tokens"]])
        pos = torch.tensor([prompt["positions"]])
        with torch.no_grad():
            out[f"logits.{i}"] = model(input_ids=ids, position_ids=pos).logits[0].float().contiguous()
    return out


def write(name, model, dtype=torch.float32, shard=None, old_rope_config=None, prompts=PROMPTS):
    directory = os.path.join(MODELS, name)
    shutil.rmtree(directory, ignore_errors=True)
    # Round the weights to the stored dtype, then compute reference logits in f32 from the rounded
    # weights: that is exactly what the Swift loader sees after expanding to f32.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).float())
    expected = logits_for(model, prompts)
    model.to(dtype).save_pretrained(directory, max_shard_size=shard or "1GB")
    if old_rope_config is not None:
        path = os.path.join(directory, "config.json")
        config = json.load(open(path))
        config.pop("rope_parameters", None)
        config.update(old_rope_config)
        json.dump(config, open(path, "w"), indent=2)
    save_file(expected, os.path.join(directory, "expected.safetensors"))
    json.dump(prompts, open(os.path.join(directory, "prompts.json"), "w"))
    print("wrote", name, sorted(os.listdir(directory)))


def aliased_lm_head(name, seed):
    """A tied checkpoint that stores only lm_head.weight and aliases embed_tokens to it."""
    config = LlamaConfig(**TINY, tie_word_embeddings=True, architectures=["LlamaForCausalLM"])
    model = LlamaForCausalLM(config).eval()
    randomize(model, seed)
    expected = logits_for(model)
    directory = os.path.join(MODELS, name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    config.save_pretrained(directory)
    tensors = {k: v.contiguous() for k, v in model.state_dict().items() if k != "model.embed_tokens.weight"}
    tensors["lm_head.weight"] = model.lm_head.weight.detach().clone().contiguous()
    save_file(tensors, os.path.join(directory, "model.safetensors"),
              metadata={"format": "pt", "model.embed_tokens.weight": "lm_head.weight"})
    save_file(expected, os.path.join(directory, "expected.safetensors"))
    json.dump(PROMPTS, open(os.path.join(directory, "prompts.json"), "w"))
    print("wrote", name)


def tiny_models():
    def llama(seed, **extra):
        m = LlamaForCausalLM(LlamaConfig(**{**TINY, **extra})).eval(); randomize(m, seed); return m
    write("llama-tied", llama(1, tie_word_embeddings=True))
    write("llama-untied-sharded", llama(2, tie_word_embeddings=False), shard="60KB")
    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64}
    write("llama3-scaling", llama(3, rope_parameters={"rope_theta": 10000.0, **scaling}),
          old_rope_config={"rope_theta": 10000.0, "rope_scaling": scaling})
    write("llama-linear-scaling", llama(4, rope_parameters={"rope_theta": 500.0, "rope_type": "linear",
                                                            "factor": 4.0}))
    write("llama-bf16", llama(5), dtype=torch.bfloat16)
    write("llama-f16", llama(6, head_dim=24), dtype=torch.float16)
    m = MistralForCausalLM(MistralConfig(**TINY, sliding_window=None)).eval(); randomize(m, 7)
    write("mistral", m)
    m = Qwen2ForCausalLM(Qwen2Config(**TINY, tie_word_embeddings=True)).eval(); randomize(m, 8)
    write("qwen2-bias", m)
    aliased_lm_head("llama-aliased-head", 9)
    mistral_sliding_window()


def mistral_sliding_window():
    """Mistral with a 4-token sliding window: in transformers a query at position p sees keys at
    p - 3 ... p (masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window)."""
    config = MistralConfig(**TINY, sliding_window=4, attn_implementation="eager")
    m = MistralForCausalLM(config).eval(); randomize(m, 10)
    write("mistral-sliding-window", m, prompts=SLIDING_PROMPTS)


def perplexity(model, ids, context, bos, stride=None):
    """The definition `reanchor perplexity` implements: windows of context-1 tokens (context without BOS),
    BOS prepended, every window token scored given its predecessors in the window; with a stride below
    the window, windows start every `stride` tokens and only tokens no earlier window scored are scored."""
    window = context - (0 if bos is None else 1)
    stride = stride or window
    nll, count, scored_up_to, begin = 0.0, 0, 0, 0
    while True:
        end = min(begin + window, len(ids))
        tokens = ([bos] if bos is not None else []) + ids[begin:end]
        offset = 0 if bos is None else 1
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([tokens])).logits[0].double(), -1)
        for t in range(1, len(tokens)):
            if begin + t - offset >= scored_up_to:
                nll -= logp[t - 1, tokens[t]].item(); count += 1
        scored_up_to = end
        if begin + window >= len(ids):
            break
        begin += stride
    return math.exp(nll / count), count


def trained_models(shared):
    cases = [("books-5m", "corpora/gutenberg/pg1342.txt", "It is a truth universally acknowledged"),
             ("books-5m-bf16", "corpora/gutenberg/pg1342.txt", "It is a truth universally acknowledged"),
             ("tinystories-656k", "corpora/tinystories-valid-100/validation_100.txt", "Once upon a time")]
    out = {}
    for name, corpus, prompt in cases:
        directory = os.path.join(shared, "models", name)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
        tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        prompt_ids = tokenizer.encode(prompt).ids
        with torch.no_grad():
            # An explicit attention mask: BOS may share its id with the pad token and must not be masked.
            generated = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                                       max_new_tokens=24, do_sample=False, eos_token_id=None,
                                       pad_token_id=model.config.vocab_size - 1)[0].tolist()
        text = open(os.path.join(shared, corpus), encoding="utf-8").read()[20000:28000]
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        bos = model.config.bos_token_id
        ppl, count = perplexity(model, ids, 128, bos)
        strided, strided_count = perplexity(model, ids, 128, bos, stride=32)
        out[name] = {"prompt": prompt, "prompt_ids": prompt_ids, "greedy": generated[len(prompt_ids):],
                     "corpus": corpus, "corpus_offset": 20000, "corpus_length": 8000,
                     "context": 128, "perplexity": ppl, "scored_tokens": count,
                     "stride": 32, "perplexity_strided": strided, "scored_tokens_strided": strided_count}
        print(name, out[name]["greedy"][:8], ppl, count)
    json.dump(out, open(os.path.join(MODELS, "trained.json"), "w"), indent=1)


TRICKY = [
    "Hello world", " Hello world", "  leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\n\n\nend",
    "multiple   spaces   between", "CamelCaseWords and snake_case_words", "It's they're we've I'm you'll he'd",
    "numbers 1 12 123 1234 12345 3.14159 -42", "punctuation!!! ??? ... ,,, ;;; --- ___",
    "unicode: café naïve résumé Ünïcödé", "greek: αβγδ ελληνικά", "cjk: 你好世界 日本語",
    "emoji: 😀 👍🏽 👨‍👩‍👧 🇫🇷", "mixed\r\nline\rendings", "", " ", "\n", "a", "<|begin_of_text|>Hello<|end_of_text|>",
    "text with <|end_of_text|> special inside", "<|start_story|>Once upon a time<|end_story|>",
    "Once upon a time, there was a little girl named Lily.", "zero\u200bwidth and\u00a0nbsp",
]


def tokenizer_cases(shared):
    out = {}
    for name in ["books-5m", "tinystories-656k"]:
        tokenizer = Tokenizer.from_file(os.path.join(shared, "models", name, "tokenizer.json"))
        cases = []
        for text in TRICKY:
            with_special = tokenizer.encode(text)
            plain = tokenizer.encode(text, add_special_tokens=False)
            cases.append({"text": text, "ids": with_special.ids, "ids_no_special": plain.ids,
                          "decoded": tokenizer.decode(plain.ids, skip_special_tokens=True)})
        out[name] = cases
    os.makedirs(TOKENIZERS, exist_ok=True)
    json.dump(out, open(os.path.join(TOKENIZERS, "tokenizers.json"), "w"), indent=1, ensure_ascii=False)
    print("wrote tokenizers.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    torch.manual_seed(0)
    parser.add_argument("--only", choices=["tiny", "sliding", "tokenizers", "trained"])
    args = parser.parse_args()
    if args.only in (None, "tiny"):
        tiny_models()
    if args.only == "sliding":
        mistral_sliding_window()
    if args.only in (None, "tokenizers"):
        tokenizer_cases(args.shared)
    if args.only in (None, "trained"):
        trained_models(args.shared)
