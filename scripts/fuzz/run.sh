#!/usr/bin/env bash
# Fuzzes one of the parsers with libFuzzer: scripts/fuzz/run.sh TARGET [SECONDS]
#
# Each TARGET is a folder beside this script with `build.sh OUT` (builds the libFuzzer binary at OUT with
# `swiftc -sanitize=fuzzer,address -parse-as-library`: a SwiftPM executable target cannot link libFuzzer)
# and `seeds/` (small valid inputs). Crashing inputs land in `.build-fuzz/TARGET/crashes/`; copy each one
# into the module's test fixtures as a regression test. Prints the number of executions at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:?usage: scripts/fuzz/run.sh TARGET [SECONDS]  (targets: $(ls -d scripts/fuzz/*/ | xargs -n1 basename | tr '\n' ' '))}"
seconds="${2:-180}"
here="scripts/fuzz/$target"
[ -x "$here/build.sh" ] || { echo "no fuzz target '$target' (expected $here/build.sh)"; exit 2; }
work=".build-fuzz/$target"
mkdir -p "$work/corpus" "$work/crashes"
cp -n "$here"/seeds/* "$work/corpus/" 2>/dev/null || true
"$here/build.sh" "$work/fuzzer"
export SWIFT_BACKTRACE=enable=no   # a crash's backtracer can hang under libFuzzer
"$work/fuzzer" "$work/corpus" -max_total_time="$seconds" -artifact_prefix="$work/crashes/" \
    -print_final_stats=1 -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=10 2>&1 | tee "$work/log.txt" | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Test unit written|DONE' || true
echo "crashes: $(ls "$work/crashes" | wc -l) in $work/crashes"
