#!/usr/bin/env bash
# Side by side in one run: `reanchor serve` and llama.cpp's `llama-server` on the same weights, driven by
# `reanchor bench serve` with both URLs, so that every concurrency alternates between the two servers
# (their order reversed every other repeat) and the ratios come from one run.
#
#   scripts/bench/serve_vs_llama.sh LLAMA_SERVER GGUF MODEL_DIR [OUT.json] [-- extra bench serve options]
#
# LLAMA_SERVER: a llama-server binary (its shared libraries beside it); GGUF: the weights for it; MODEL_DIR:
# the same weights as a Hugging Face directory for reanchor. Environment: SLOTS (8) = llama-server -np and
# reanchor --max-sequences, THREADS (2) = llama-server -t/-tb, CONCURRENCY (1,8), PROMPT (64), MAX_TOKENS (32),
# ROUNDS (2), REPEATS (3), WEIGHTS (auto) = reanchor --weights. Builds nothing: run
# `swift build -c release --product reanchor` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then sed -n '5,13p' "$0"; exit 2; fi
llama="$1"; gguf="$2"; model="$3"; shift 3
out="serve-vs-llama.json"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
slots="${SLOTS:-8}"; threads="${THREADS:-2}"; prompt="${PROMPT:-64}"; max_tokens="${MAX_TOKENS:-32}"
[ -x "$llama" ] || { echo "not an executable: $llama"; exit 2; }
[ -f "$gguf" ] || { echo "no such GGUF file: $gguf"; exit 2; }
[ -f "$model/config.json" ] || { echo "not a model directory (no config.json): $model"; exit 2; }
reanchor=.build/release/reanchor
[ -x "$reanchor" ] || { echo "build first: swift build -c release --product reanchor"; exit 2; }

work="$(mktemp -d)"
llama_pid=""; reanchor_pid=""
cleanup() {
    for pid in $llama_pid $reanchor_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $llama_pid $reanchor_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Every slot holds one request: its prompt, its tokens and some room.
context=$(( slots * (prompt + max_tokens + 64) ))
LD_LIBRARY_PATH="$(dirname "$llama")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$llama" -m "$gguf" -np "$slots" -cb -t "$threads" -tb "$threads" -c "$context" --host 127.0.0.1 --port "$port" \
    > "$work/llama.log" 2>&1 &
llama_pid=$!
"$reanchor" serve --model "$model" --weights "${WEIGHTS:-auto}" --max-sequences "$slots" --host 127.0.0.1 --port 0 \
    > "$work/reanchor.out" 2> "$work/reanchor.log" &
reanchor_pid=$!

reanchor_url=""
for _ in $(seq 1 3000); do
    [ -z "$reanchor_url" ] && reanchor_url="$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$work/reanchor.out" | head -1)"
    llama_ready="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)"
    [ -n "$reanchor_url" ] && [ "$llama_ready" = 200 ] && break
    kill -0 "$llama_pid" 2>/dev/null || { tail -20 "$work/llama.log"; echo "llama-server exited"; exit 1; }
    kill -0 "$reanchor_pid" 2>/dev/null || { tail -20 "$work/reanchor.log"; echo "reanchor serve exited"; exit 1; }
    sleep 0.2
done
[ -n "$reanchor_url" ] && [ "$llama_ready" = 200 ] || { echo "the servers did not come up within 10 minutes"; exit 1; }
echo "llama-server pid $llama_pid on http://127.0.0.1:$port; reanchor serve pid $reanchor_pid on $reanchor_url"

# llama-server first: it is the baseline of the `versus` ratios (reanchor / llama-server).
"$reanchor" bench serve --url "llama-server=http://127.0.0.1:$port" --server-pid "llama-server=$llama_pid" \
    --url "reanchor=$reanchor_url" --server-pid "reanchor=$reanchor_pid" --vocab-size "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$model/config.json")" \
    --concurrency "${CONCURRENCY:-1,8}" --prompt-tokens "$prompt" --max-tokens "$max_tokens" \
    --rounds "${ROUNDS:-2}" --repeats "${REPEATS:-3}" --json "$out" "$@"
echo "llama-server: $(grep -m1 -o 'system_info.*' "$work/llama.log" || true)"
echo "report: $out"
