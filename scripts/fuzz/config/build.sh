#!/usr/bin/env bash
# Builds the config.json fuzzer at $1: ModelConfig's parser and validation compiled alone, with the one
# Kernels file it needs (Rotary.swift, RoPE types) as a small `Kernels` module beside it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out="${1:?usage: build.sh OUT}"
work="$(dirname "$out")/kernels"
mkdir -p "$work"
quiet() { grep -v "Cannot export local symbol" || true; }   # gold's harmless notes on ASan's symbols
swiftc -parse-as-library -module-name Kernels -sanitize=address -emit-module -emit-module-path "$work/Kernels.swiftmodule" \
    -emit-library -static -o "$work/libKernels.a" Sources/Kernels/Rotary.swift
swiftc -sanitize=fuzzer,address -parse-as-library -module-name ConfigFuzz -I "$work" -L "$work" -lKernels -o "$out" \
    scripts/fuzz/config/Harness.swift Sources/Models/ModelConfig.swift Sources/Models/ModelConfig+JSON.swift \
    Sources/Models/ModelConfig+Limits.swift Sources/Models/ModelConfig+Validation.swift Sources/Models/ModelConfig+Canonical.swift \
    Sources/Models/ConfigFields.swift Sources/Models/JSONValue.swift Sources/Models/ModelError.swift 2>&1 | quiet
