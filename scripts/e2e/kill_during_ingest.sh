#!/usr/bin/env bash
# A `kill -9` during a background ingest leaves nothing that is served corrupt: starts `reanchor serve --library DIR`
# (release, built by run.sh), posts a long document (the start of this README, prefilled in the background in small chunks),
# kills the server with SIGKILL while it writes, restarts it on the same directory, and checks that the document is
# reported `failed` (or `ready`, when the ingest won the race), that ingesting it again completes, reusing the
# chunks that reached the disk, and that `reanchor library verify` finds every entry on disk whole.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="$(scripts/e2e/venv.sh)"
binary=.build/release/reanchor
work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the server on the library directory and sets $pid and $address.
start() {
    : > "$work/stdout"
    "$binary" serve --port 0 --library "$work/library" --chunk-tokens 64 --background-tokens 256 > "$work/stdout" 2>> "$work/server.log" &
    pid=$!
    address=""
    for _ in $(seq 1 600); do
        address="$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$work/stdout" | head -1)"
        [ -n "$address" ] && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; echo "kill-ingest: the server exited before listening"; exit 1; }
        sleep 0.1
    done
    echo "kill-ingest: the server did not print its address"; exit 1
}

request() {  # METHOD PATH [JSON-FILE] -> the response body on stdout
    "$python" - "$address" "$@" <<'PY'
import json, sys, urllib.request
base, method, path = sys.argv[1:4]
data = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else None
request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=300) as response:
    print(response.read().decode())
PY
}

"$python" -c 'import json, sys; print(json.dumps({"text": open("README.md").read()[:20000]}))' > "$work/document.json"
start
id="$(request POST /v1/documents "$work/document.json" | "$python" -c 'import json, sys; body = json.load(sys.stdin); print(body["id"]); assert body["status"] == "processing", body')"
sleep 0.3
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=""
written="$(find "$work/library" -maxdepth 1 -type f | wc -l)"
echo "kill-ingest: killed mid-ingest of $id with $written files in the library"

start
status="$(request GET "/v1/documents/$id" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["status"])')"
echo "kill-ingest: after the restart the document is $status"
case "$status" in failed|ready) ;; *) echo "kill-ingest: FAIL status $status"; exit 1 ;; esac
again="$(request POST /v1/documents "$work/document.json")"
final=""
for _ in $(seq 1 600); do
    final="$(request GET "/v1/documents/$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$again")" \
        | "$python" -c 'import json, sys; print(json.load(sys.stdin)["status"])')"
    [ "$final" = processing ] || break
    sleep 0.5
done
[ "$final" = ready ] || { echo "kill-ingest: FAIL the second ingest ended $final"; exit 1; }
kill -TERM "$pid"; wait "$pid" || { echo "kill-ingest: FAIL the server did not exit 0"; exit 1; }
pid=""
verify="$("$binary" library verify --library "$work/library" --json)"
echo "kill-ingest: verify $verify"
"$python" -c 'import json, sys; v = json.loads(sys.argv[1]); assert v["verified"] > 0 and not v["removed"], v' "$verify" \
    || { echo "kill-ingest: FAIL entries on disk were not whole"; exit 1; }
echo "kill-ingest: ok"
