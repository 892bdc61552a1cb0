#!/usr/bin/env bash
# End to end with the official openai client: builds release, starts `reanchor serve` on the embedded model on a
# free loopback port with an API key file, runs openai_client.py (which ends by sending SIGTERM while a stream is in
# flight), and checks that the server exits with status 0. Load figures go to $E2E_FIGURES when set.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="$(scripts/e2e/venv.sh)"
swift build -c release --product reanchor
work="$(mktemp -d)"
pid=""
# True while the process runs (a zombie, dead but not yet waited for, does not count).
alive() { [ -e "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
key="sk-e2e-$RANDOM$RANDOM"
printf '{"keys": [{"key": "%s", "tenant": "e2e", "admin": true}]}\n' "$key" > "$work/keys.json"
.build/release/reanchor serve --host 127.0.0.1 --port 0 --api-keys "$work/keys.json" --max-sequences 8 --max-queue 32 \
    > "$work/stdout" 2> "$work/server.log" &
pid=$!
address=""
for _ in $(seq 1 600); do
    address="$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$work/stdout" | head -1)"
    [ -n "$address" ] && break
    alive "$pid" || { cat "$work/stdout" "$work/server.log"; echo "e2e: the server exited before listening"; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { echo "e2e: the server did not print its address"; exit 1; }
echo "e2e: server pid $pid at $address"
status=0
"$python" scripts/e2e/openai_client.py --base-url "$address" --api-key "$key" --model books-5m --server-pid "$pid" \
    ${E2E_FIGURES:+--figures "$E2E_FIGURES"} || status=$?
# The client sent SIGTERM; send it again if it stopped early, then wait for the graceful exit. The grace period is
# polled here, not raced by a background watchdog: a subshell killed right after its fork runs the inherited EXIT
# trap (cleanup, which deleted the log under us, CI of stop 18).
if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
exit_status=0
wait "$pid" || exit_status=$?
echo "e2e: server log (last lines):"
tail -n 15 "$work/server.log" || true
if [ "$exit_status" = 137 ]; then echo "e2e: FAIL the server did not exit within 30 s of SIGTERM"; exit 1; fi
if [ "$exit_status" != 0 ]; then echo "e2e: FAIL the server exited with status $exit_status"; exit 1; fi
echo "e2e: the server exited with status 0"
pid=""
exit "$status"
