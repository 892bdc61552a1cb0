#!/usr/bin/env bash
# Builds the libFuzzer binary for the library entry decoder at $1: scripts/fuzz/entry/build.sh OUT
#
# A SwiftPM executable cannot link libFuzzer, so the Documents sources and Harness.swift are compiled as one
# module by swiftc with -sanitize=fuzzer,address (coverage and ASan on the code under test), against the
# modules SwiftPM already built for Documents' dependencies (Cache, Crypto, and theirs), whose objects are
# linked from a static archive so only what is used is pulled in. The files that talk to Redis (and the library
# that composes the tiers) are left out: the decoder does not use them, and they would need SwiftNIO's modules.
set -euo pipefail
out="${1:?usage: scripts/fuzz/entry/build.sh OUT}"
cd "$(dirname "$0")/../../.."
swift build --target Documents >&2
debug=.build/debug
checkouts=.build/checkouts
work="$(dirname "$out")/objects"
mkdir -p "$work"
rm -f "$work/libdependencies.a"
find "$debug"/{Cache,Kernels,CKernels,Crypto,CryptoBoringWrapper,CCryptoBoringSSL,CCryptoBoringSSLShims}.build -name '*.o' \
    | xargs ar rcs "$work/libdependencies.a"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name EntryFuzz \
    -I "$debug/Modules" \
    -Xcc -fmodule-map-file=Sources/CBLAS/module.modulemap \
    -Xcc -fmodule-map-file="$debug/CKernels.build/module.modulemap" \
    -Xcc -fmodule-map-file="$checkouts/swift-crypto/Sources/CCryptoBoringSSL/include/module.modulemap" \
    -Xcc -fmodule-map-file="$checkouts/swift-crypto/Sources/CCryptoBoringSSLShims/include/module.modulemap" \
    $(ls Sources/Documents/*.swift | grep -v -e RemoteTier -e Redis -e LibraryInspection -e DocumentLibrary) \
    scripts/fuzz/entry/Harness.swift \
    -L "$work" -ldependencies -lopenblas \
    -o "$out" 2> >(grep -v "Cannot export local symbol" >&2)
echo "built $out" >&2
