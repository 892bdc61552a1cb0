// Small C kernels for the decode path. Compiled for x86-64-v3 (AVX2, FMA, F16C).
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

/// Attention of one query token over `cells` cached cells, grouped-query heads.
/// q: [heads, d]; keys, values: [cells, kv_heads, d]; out: [heads, d];
/// scores: scratch of heads * cells floats; probabilities (may be NULL): [heads, cells] receives the weights.
/// A cell is visible when cell_sequences[c] == sequence and window_low < cell_positions[c] <= query_position.
/// cell_cos, cell_sin (may be NULL): [cells, d/2] angles; when given, keys are canonical (unrotated) and each
/// is rotated to its cell's angles inside the dot product (pre-RoPE attention), with no copy of the cache.
void ck_attention_decode(const float *q, const float *keys, const float *values, int cells,
                         int heads, int kv_heads, int d,
                         const int32_t *cell_positions, const int32_t *cell_sequences,
                         int32_t query_position, int32_t sequence, int32_t window_low,
                         const float *cell_cos, const float *cell_sin,
                         float *scores, float *out, float *probabilities);

/// out[r, i] = silu(gate[r, i]) * up[r, i] for a fused [gate | up] row layout.
/// gate_up: [rows, 2 * width]; out: [rows, width].
void ck_swiglu(const float *gate_up, int rows, int width, float *out);

/// In-place softmax of `count` values; -infinity entries get exactly 0. All -infinity gives all 0.
void ck_softmax(float *x, int count);

/// Best of `repeats` read passes over a fresh `bytes`-byte buffer with `threads` threads, in GB/s.
double ck_read_bandwidth(long bytes, int threads, int repeats);

#endif
