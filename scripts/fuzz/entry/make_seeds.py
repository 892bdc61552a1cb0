#!/usr/bin/env python3
"""Writes the entry fuzzer's seeds and the crafted regression fixtures of issue 8.

    python3 scripts/fuzz/entry/make_seeds.py

Seeds (scripts/fuzz/entry/seeds/*.body) are small valid library entries *without* their trailing SHA-256:
the harness appends the checksum itself, so mutations reach the header and payload checks. Fixtures
(Tests/DocumentsTests/Fixtures/entry/issue8-*.kv) are whole files with a valid checksum and key whose
content breaks one rule; Fixtures/entry-valid/ holds one valid entry, which the tests decode to check that
this writer and the Swift decoder agree on the format (documented in Sources/Documents/EntryCodec.swift).
"""
import hashlib
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
FINGERPRINT = {"model": "model-a", "tokenizer": "tokenizer-a"}


def chunk_key(namespace, context, tokens, fingerprint=FINGERPRINT):
    """ChunkKey: SHA-256 of the fingerprint, namespace, context and tokens (Fingerprint.swift)."""
    digest = hashlib.sha256()
    digest.update(f"reanchor-chunk-v1\n{fingerprint['model']}\n{fingerprint['tokenizer']}\n{namespace}\n".encode())
    for marker, ids in ((-1, context), (-2, tokens)):
        digest.update(struct.pack(f"<{2 + len(ids)}q", marker, len(ids), *ids))
    return digest.hexdigest()


def f32(value):
    """`value` rounded to the nearest f32."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def encode_values(floats, kv, columns):
    """The payload bytes of `floats` (rows of `columns` values) in the entry format `kv` (KVFormat.swift)."""
    if kv in (None, "f32"):
        return struct.pack(f"<{len(floats)}f", *floats)
    if kv == "f16":
        return struct.pack(f"<{len(floats)}e", *floats)
    if kv == "bf16":  # round to nearest even on the f32 bits
        words = []
        for value in floats:
            bits = struct.unpack("<I", struct.pack("<f", value))[0]
            words.append(((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF)
        return struct.pack(f"<{len(words)}H", *words)
    assert kv == "q8"  # per row, blocks of 32: f32 scale d = max|x| / 127, then 32 int8 round(x / d), zero padded
    out = b""
    for start in range(0, len(floats), columns):
        row = floats[start:start + columns]
        for block in range(0, columns, 32):
            values = row[block:block + 32] + [0.0] * (32 - len(row[block:block + 32]))
            d = f32(max(abs(v) for v in values) / 127)
            inverse = f32(1 / d) if d > 0 else 0.0
            q = [max(-127, min(127, round(f32(v * inverse)))) for v in values]
            out += struct.pack("<f32b", d, *q)
    return out


def body(tokens, context=(), namespace="public", layers=2, kv_heads=2, head_dimension=4, positions=None,
         payload_cells=None, kv=None):
    """Prelude, JSON header and payload of an entry (no checksum): format version 1 (f32) when `kv` is None,
    else version 2 with K/V stored as `kv`."""
    tokens, context = list(tokens), list(context)
    positions = list(range(len(tokens))) if positions is None else positions
    header = {"key": chunk_key(namespace, context, tokens), "namespace": namespace, "fingerprint": FINGERPRINT,
              "context": context, "tokens": tokens, "created": 1700000000, "layers": layers, "kvHeads": kv_heads,
              "headDimension": head_dimension, "relativePositions": positions}
    if kv is not None:
        header["kv"] = kv
    # Version 2 headers have sorted keys, as the Swift writer's (EntryCodec.headerEncoder).
    header_bytes = json.dumps(header, separators=(",", ":"), sort_keys=kv is not None).encode()
    cells = len(tokens) if payload_cells is None else payload_cells
    floats = [0.25 * (i % 17) - 1.0 for i in range(2 * layers * cells * kv_heads * head_dimension)]
    payload = encode_values(floats, kv, head_dimension)
    version = 1 if kv is None else 2
    return b"RNCHKV\x00\x01" + struct.pack("<II", version, len(header_bytes)) + header_bytes + payload


def whole(data):
    return data + hashlib.sha256(data).digest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


seeds = os.path.join(ROOT, "scripts", "fuzz", "entry", "seeds")
write(os.path.join(seeds, "public-3-tokens.body"), body([5, 6, 7], context=[1, 2]))
write(os.path.join(seeds, "tenant-1-token.body"), body([9], namespace="tenant:alice", layers=1, kv_heads=1, head_dimension=1))
write(os.path.join(seeds, "public-no-context.body"), body([3, 1, 4, 1]))
write(os.path.join(seeds, "whole-file.kv"), whole(body([2, 7])))
for kv in ("bf16", "f16", "q8"):  # compact entries (format version 2)
    write(os.path.join(seeds, f"public-3-tokens-{kv}.body"), body([5, 6, 7], context=[1, 2], kv=kv))
# Not valid, but they hand the mutator large numbers to copy into other fields (libFuzzer rarely types
# 13 digits by itself): one huge field alone is a clean rejection, two multiplied used to overflow.
write(os.path.join(seeds, "huge-kvheads.body"), body([5, 6, 7], kv_heads=1 << 40, payload_cells=0))
write(os.path.join(seeds, "huge-token-ids.body"), body([(1 << 63) - 1, 1 << 40, 0], context=[1 << 62]))

fixtures = os.path.join(ROOT, "Tests", "DocumentsTests", "Fixtures")
write(os.path.join(fixtures, "entry-valid", "public-3-tokens.kv"), whole(body([5, 6, 7], context=[1, 2])))
for kv in ("bf16", "f16", "q8"):
    write(os.path.join(fixtures, "entry-valid", f"public-3-tokens-{kv}.kv"), whole(body([5, 6, 7], context=[1, 2], kv=kv)))
crafted = {
    # kvHeads = headDimension = 2^40: the size product overflowed and trapped.
    "issue8-kvheads-2e40.kv": body([5, 6, 7], kv_heads=1 << 40, head_dimension=1 << 40, payload_cells=0),
    # Shifted and negative relative positions were served as a hit.
    "issue8-shifted-positions.kv": body([5, 6, 7], positions=[1, 2, 3]),
    "issue8-negative-positions.kv": body([5, 6, 7], positions=[-1, 0, 1]),
    # More tokens than cells.
    "issue8-token-count.kv": body([5, 6, 7, 8], positions=[0, 1, 2], payload_cells=3),
}
for name, data in crafted.items():
    write(os.path.join(fixtures, "entry", name), whole(data))
print(f"wrote {len(os.listdir(seeds))} seeds and {len(crafted) + 4} fixtures")
