#!/usr/bin/env bash
# Side by side in one run: `reanchor bench prefill` and llama.cpp's `llama-bench` on the same weights, per
# format, alternating the two tools (order reversed every other repeat), with the machine's read bandwidth
# measured by reanchor in each of its runs. Both decode at the same depth: after the PROMPT tokens (llama-bench
# -d). Prints a Markdown table and writes every run as JSON.
#
#   scripts/bench/decode_vs_llama.sh LLAMA_BENCH MODEL_DIR FORMAT=GGUF [FORMAT=GGUF ...] [--out F.json]
#
# LLAMA_BENCH: a llama-bench binary (its shared libraries beside it); MODEL_DIR: the weights as a Hugging Face
# directory for reanchor; FORMAT=GGUF pairs reanchor's --weights (bf16, f16, q8, q4, f32) with llama.cpp's
# file in the matching type (BF16, F16, Q8_0, Q4_0, F32). Environment: PROMPT (512), DECODE (128),
# REPEATS (3), THREADS (2) = llama-bench -t. Builds nothing: run `swift build -c release --product reanchor`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then sed -n '6,12p' "$0"; exit 2; fi
llama="$1"; model="$2"; shift 2
pairs=(); out="decode-vs-llama.json"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        *=*) pairs+=("$1"); shift ;;
        *) echo "expected FORMAT=GGUF or --out FILE, got: $1"; exit 2 ;;
    esac
done
prompt="${PROMPT:-512}"; decode="${DECODE:-128}"; repeats="${REPEATS:-3}"; threads="${THREADS:-2}"
[ -x "$llama" ] || { echo "not an executable: $llama"; exit 2; }
[ -f "$model/config.json" ] || { echo "not a model directory (no config.json): $model"; exit 2; }
reanchor=.build/release/reanchor
[ -x "$reanchor" ] || { echo "build first: swift build -c release --product reanchor"; exit 2; }
export LD_LIBRARY_PATH="$(dirname "$llama")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for pair in "${pairs[@]}"; do
    gguf="${pair#*=}"
    [ -f "$gguf" ] || { echo "no such GGUF file: $gguf"; exit 2; }
done

run_reanchor() {  # format repeat
    echo "reanchor $1 (repeat $2)" >&2
    "$reanchor" bench prefill --model "$model" --weights "$1" --prompt-tokens "$prompt" --decode-tokens "$decode" \
        --json 2>/dev/null > "$work/reanchor-$1-$2.json"
}
run_llama() {  # format gguf repeat
    echo "llama-bench $1 (repeat $3)" >&2
    # Prefill of PROMPT tokens, then decode at a depth of PROMPT tokens, as reanchor decodes after its prompt.
    "$llama" -m "$2" -p "$prompt" -n 0 -t "$threads" -r 1 -o json 2>/dev/null > "$work/llama-pp-$1-$3.json"
    "$llama" -m "$2" -p 0 -n "$decode" -d "$prompt" -t "$threads" -r 1 -o json 2>/dev/null > "$work/llama-tg-$1-$3.json"
    python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])) + json.load(open(sys.argv[2]))))' \
        "$work/llama-pp-$1-$3.json" "$work/llama-tg-$1-$3.json" > "$work/llama-$1-$3.json"
}
for repeat in $(seq 1 "$repeats"); do
    for pair in "${pairs[@]}"; do
        format="${pair%%=*}"; gguf="${pair#*=}"
        if [ $((repeat % 2)) -eq 1 ]; then run_reanchor "$format" "$repeat"; run_llama "$format" "$gguf" "$repeat"
        else run_llama "$format" "$gguf" "$repeat"; run_reanchor "$format" "$repeat"; fi
    done
done

python3 - "$work" "$out" "$model" "$prompt" "$decode" "${pairs[@]}" <<'EOF'
import glob, json, os, statistics, sys
work, out, model, prompt, decode, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
flags = sorted({f for line in open("/proc/cpuinfo") if line.startswith("flags") for f in line.split(":")[1].split()
                if f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_bf16", "avx512_vnni", "avx_vnni")})
cpu = next((line.split(":")[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
rows, runs = [], []
for pair in pairs:
    fmt, gguf = pair.split("=", 1)
    ours = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/reanchor-{fmt}-*.json"))]
    theirs = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/llama-{fmt}-*.json"))]
    pick = lambda entries, key: [e["avg_ts"] for run in entries for e in run if e[key] > 0]
    row = {
        "format": fmt, "gguf": os.path.basename(gguf),
        "reanchor_prefill_tok_s": [r["prefill_tok_s"] for r in ours],
        "reanchor_decode_tok_s": [r["decode_tok_s"] for r in ours],
        "reanchor_decode_fraction_of_bandwidth": [r["decode_fraction_of_measured_bandwidth"] for r in ours],
        "measured_read_gb_s": [r["measured_read_gb_s"] for r in ours],
        "llama_prefill_tok_s": pick(theirs, "n_prompt"), "llama_decode_tok_s": pick(theirs, "n_gen"),
        "llama_commit": theirs[0][0]["build_commit"] if theirs and theirs[0] else None,
    }
    for stage in ("prefill", "decode"):
        a, b = statistics.median(row[f"reanchor_{stage}_tok_s"]), statistics.median(row[f"llama_{stage}_tok_s"])
        row[f"{stage}_ratio_of_medians"] = a / b
    rows.append(row); runs.append({"reanchor": ours, "llama": theirs})
json.dump({"cpu": cpu, "flags": flags, "model": model, "prompt_tokens": prompt, "decode_tokens": decode,
           "rows": rows, "runs": runs}, open(out, "w"), indent=1)
print(f"CPU {cpu}; flags {' '.join(flags)}; llama.cpp {rows[0]['llama_commit'] if rows else '?'}; "
      f"prefill {prompt} tokens, decode {decode}; medians of {len(rows[0]['reanchor_decode_tok_s']) if rows else 0} runs")
print("| format | reanchor prefill / decode tok/s | llama.cpp prefill / decode tok/s | ratio prefill / decode | reanchor decode, of measured bandwidth |")
print("|---|---|---|---|---|")
m = statistics.median
for r in rows:
    print(f"| {r['format']} vs {r['gguf']} | {m(r['reanchor_prefill_tok_s']):.0f} / {m(r['reanchor_decode_tok_s']):.1f} | "
          f"{m(r['llama_prefill_tok_s']):.0f} / {m(r['llama_decode_tok_s']):.1f} | "
          f"{r['prefill_ratio_of_medians']:.2f} / {r['decode_ratio_of_medians']:.2f} | "
          f"{100 * m(r['reanchor_decode_fraction_of_bandwidth']):.0f}% of {m(r['measured_read_gb_s']):.0f} GB/s |")
print(f"JSON: {out}")
EOF
