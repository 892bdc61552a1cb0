#!/usr/bin/env bash
# Builds the safetensors header fuzzer at $1: SafeTensorsHeader's parser compiled alone (Foundation only).
set -euo pipefail
cd "$(dirname "$0")/../../.."
out="${1:?usage: build.sh OUT}"
quiet() { grep -v "Cannot export local symbol" || true; }   # gold's harmless notes on ASan's symbols
swiftc -sanitize=fuzzer,address -parse-as-library -module-name SafeTensorsFuzz -o "$out" \
    scripts/fuzz/safetensors/Harness.swift Sources/Models/SafeTensorsHeader.swift Sources/Models/JSONValue.swift \
    Sources/Models/ModelError.swift 2>&1 | quiet
