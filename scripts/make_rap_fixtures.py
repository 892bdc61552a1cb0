#!/usr/bin/env python3
"""Golden fixtures for RoPE-aligned pruned (RAP) checkpoints, from the Hugging Face reference.

    /work/venv-fixtures/bin/python scripts/make_rap_fixtures.py

For each fixture a tiny random model is built with transformers, and per layer and KV head a random subset
of RoPE pairs (pair i = dims i and i + head_dim/2, the half-split layout) and of value channels is kept.
The reference logits come from the *unpruned* transformers model with an explicit mask on its weights: the
q_proj/k_proj rows (and biases) of the dropped pairs, for every query head of the group, and the v_proj
rows of the dropped value channels are zeroed. A dropped pair then adds exactly 0 to every q.k (whatever
its rotation) and a dropped value channel 0 to the output, so this is the pruned model computed by the
stock attention (scale 1/sqrt(head_dim), every kept pair at its original frequency).

The channel fixtures (chan-*) keep, per head, some whole pairs plus "lone" q/k channels whose partner is
dropped (what RoPE-blind channel pruning keeps). The reference again zeroes every dropped q/k row of the
unpruned model: a lone channel c of pair frequency w then contributes q_c k_c cos((t - s) w) to q_t.k_s,
which the pruned checkpoint stores as the pair with a zero row in place of the partner. Heads keep
different numbers of pairs and lone channels (first and second halves), with the same number of rotation
slots S = pairs + lone.

The pruned checkpoint (what the Swift test loads) holds only the kept rows/columns, in the layout of
`RopePruning` (Sources/Models/RopePruning.swift): slot j of a head at rows j and j + S (kept pairs first,
then one slot per lone channel); config.json gains "rope_aligned_pruning" with the
kept indices ("lone_channels" for the chan-* fixtures).

Writes Tests/ModelsTests/Fixtures/{rap,chan}-<name>/{config.json, model.safetensors, expected.safetensors, prompts.json}.
"""
import json, os, shutil
import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "Tests/ModelsTests/Fixtures")

TINY = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=96, max_position_embeddings=256, rms_norm_eps=1e-5,
            bos_token_id=1, eos_token_id=2, head_dim=16, attn_implementation="eager")

PROMPTS = [
    {"tokens": [1, 17, 42, 5, 77, 63, 8, 91, 30], "positions": list(range(9))},
    {"tokens": [1, 50, 60, 70, 80, 90, 11], "positions": list(range(100, 107))},
]


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def choose(config, pairs, channels, seed):
    """Random kept pairs [layers][kv][pairs] and value channels [layers][kv][channels], ascending."""
    g = torch.Generator().manual_seed(seed)
    d = config.head_dim
    kept_pairs = [[sorted(torch.randperm(d // 2, generator=g)[:pairs].tolist()) for _ in range(config.num_key_value_heads)]
                  for _ in range(config.num_hidden_layers)]
    kept_values = [[sorted(torch.randperm(d, generator=g)[:channels].tolist()) for _ in range(config.num_key_value_heads)]
                   for _ in range(config.num_hidden_layers)]
    return kept_pairs, kept_values


def choose_channels(config, slots, channels, seed):
    """Random kept pairs and lone channels per head with `slots` rotation slots each, and value channels."""
    g = torch.Generator().manual_seed(seed)
    d = config.head_dim
    half = d // 2
    kept_pairs, lone = [], []
    for _ in range(config.num_hidden_layers):
        layer_pairs, layer_lone = [], []
        for _ in range(config.num_key_value_heads):
            # pairs p in [0, slots - 1]: at least one lone channel.
            p = int(torch.randint(slots, (1,), generator=g))
            count = slots - p
            order = torch.randperm(half, generator=g).tolist()
            pairs = sorted(order[:p])
            others = order[p:p + count]
            sides = torch.randint(2, (count,), generator=g).tolist()
            layer_pairs.append(pairs)
            layer_lone.append(sorted(i + half * side for i, side in zip(others, sides)))
        kept_pairs.append(layer_pairs)
        lone.append(layer_lone)
    kept_values = [[sorted(torch.randperm(d, generator=g)[:channels].tolist()) for _ in range(config.num_key_value_heads)]
                   for _ in range(config.num_hidden_layers)]
    return kept_pairs, lone, kept_values


def key_rows(pairs, d, lone=()):
    """Original rows of one head that a pruned head keeps, in pruned order: each slot's first half, then each
    slot's second half (kept pairs, then one slot per lone channel); None is a zero row (a dropped partner)."""
    half = d // 2
    return (pairs + [c if c < half else None for c in lone] + [p + half for p in pairs]
            + [c if c >= half else None for c in lone])


def masked_logits(model, kept_pairs, kept_values, lone=None):
    config = model.config
    d, group = config.head_dim, config.num_attention_heads // config.num_key_value_heads
    with torch.no_grad():
        for layer, block in enumerate(model.model.layers):
            attn = block.self_attn
            for kv in range(config.num_key_value_heads):
                drop_k = [i for i in range(d) if i not in key_rows(kept_pairs[layer][kv], d, lone[layer][kv] if lone else ())]
                drop_v = [i for i in range(d) if i not in kept_values[layer][kv]]
                heads = [(attn.k_proj, kv)] + [(attn.q_proj, kv * group + g) for g in range(group)]
                for proj, head in heads:
                    rows = [head * d + i for i in drop_k]
                    proj.weight[rows] = 0
                    if proj.bias is not None:
                        proj.bias[rows] = 0
                rows = [kv * d + i for i in drop_v]
                attn.v_proj.weight[rows] = 0
                if attn.v_proj.bias is not None:
                    attn.v_proj.bias[rows] = 0
        out = {}
        for i, prompt in enumerate(PROMPTS):
            ids = torch.tensor([prompt["tokens"]])
            mask = torch.ones_like(ids)
            out[f"logits.{i}"] = model(input_ids=ids, position_ids=torch.tensor([prompt["positions"]]),
                                       attention_mask=mask).logits[0].float().contiguous()
    return out


def take_rows(tensor, rows):
    """Rows of `tensor` (None: a zero row)."""
    return torch.stack([tensor[r] if r is not None else torch.zeros_like(tensor[0]) for r in rows]).contiguous()


def pruned_tensors(state, config, kept_pairs, kept_values, lone=None):
    d, group = config.head_dim, config.num_attention_heads // config.num_key_value_heads
    tensors = {}
    for name, tensor in state.items():
        tensors[name] = tensor.clone()
    for layer in range(config.num_hidden_layers):
        prefix = f"model.layers.{layer}.self_attn."
        q_rows, k_rows, v_rows, o_columns = [], [], [], []
        for kv in range(config.num_key_value_heads):
            rows = key_rows(kept_pairs[layer][kv], d, lone[layer][kv] if lone else ())
            k_rows += [kv * d + i if i is not None else None for i in rows]
            v_rows += [kv * d + i for i in kept_values[layer][kv]]
            for g in range(group):
                head = kv * group + g
                q_rows += [head * d + i if i is not None else None for i in rows]
                o_columns += [head * d + i for i in kept_values[layer][kv]]
        for proj, rows in [("q_proj", q_rows), ("k_proj", k_rows), ("v_proj", v_rows)]:
            tensors[prefix + proj + ".weight"] = take_rows(state[prefix + proj + ".weight"], rows)
            if prefix + proj + ".bias" in state:
                tensors[prefix + proj + ".bias"] = take_rows(state[prefix + proj + ".bias"], rows)
        tensors[prefix + "o_proj.weight"] = state[prefix + "o_proj.weight"][:, o_columns].contiguous()
    if config.tie_word_embeddings:
        tensors.pop("lm_head.weight", None)
    return tensors


def write(name, model, pairs, channels, seed, lone_slots=None):
    """`lone_slots` set: a channel fixture with that many rotation slots per head (`pairs` unused)."""
    config = model.config
    if lone_slots is None:
        kept_pairs, kept_values = choose(config, pairs, channels, seed)
        lone = None
    else:
        kept_pairs, lone, kept_values = choose_channels(config, lone_slots, channels, seed)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    expected = masked_logits(model, kept_pairs, kept_values, lone)
    directory = os.path.join(MODELS, name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    config.save_pretrained(directory)
    path = os.path.join(directory, "config.json")
    document = json.load(open(path))
    document["architectures"] = [type(model).__name__]
    document["rope_aligned_pruning"] = {"method": "rap" if lone is None else "channel", "score": "random",
                                        "kept_pairs": kept_pairs, "kept_value_channels": kept_values}
    if lone is not None:
        document["rope_aligned_pruning"]["lone_channels"] = lone
    json.dump(document, open(path, "w"), indent=1)
    save_file(pruned_tensors(state, config, kept_pairs, kept_values, lone), os.path.join(directory, "model.safetensors"),
              metadata={"format": "pt"})
    save_file(expected, os.path.join(directory, "expected.safetensors"))
    json.dump(PROMPTS, open(os.path.join(directory, "prompts.json"), "w"))
    print("wrote", name, sorted(os.listdir(directory)))


def main():
    m = LlamaForCausalLM(LlamaConfig(**TINY, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 500.0})).eval()
    randomize(m, 21)
    write("rap-llama", m, pairs=5, channels=11, seed=22)
    m = Qwen2ForCausalLM(Qwen2Config(**TINY, tie_word_embeddings=False)).eval()
    randomize(m, 23)
    write("rap-qwen2-bias", m, pairs=3, channels=16, seed=24)
    m = LlamaForCausalLM(LlamaConfig(**TINY, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 500.0})).eval()
    randomize(m, 25)
    write("chan-llama", m, pairs=None, channels=12, seed=26, lone_slots=5)
    m = Qwen2ForCausalLM(Qwen2Config(**TINY, tie_word_embeddings=False)).eval()
    randomize(m, 27)
    write("chan-qwen2-bias", m, pairs=None, channels=9, seed=28, lone_slots=6)


if __name__ == "__main__":
    main()
