#!/usr/bin/env bash
# Builds the tokenizer.json fuzzer: scripts/fuzz/tokenizer/build.sh OUT
# The Tokenizers module's sources and Harness.swift in one module, with libFuzzer and AddressSanitizer.
set -euo pipefail
out="${1:?usage: build.sh OUT}"
cd "$(dirname "$0")/../../.."
mkdir -p "$(dirname "$out")"
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): harmless, left out.
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -module-name TokenizerFuzz \
    Sources/Tokenizers/*.swift scripts/fuzz/tokenizer/Harness.swift -o "$out" 2>&1 | sed '/Cannot export local symbol/d'

