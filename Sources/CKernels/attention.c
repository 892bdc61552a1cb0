// Single-query attention over a KV cache, per KV head: the scores of all the query heads of its group (each
// key read, and rotated in pre-RoPE mode, once for the group; four heads' dot products as independent
// chains), softmax per head, then the weighted values in blocks of cells with each head's output in
// registers. KV heads are shared with the GEMV helper thread (gemv_split.c) when the step is large enough.
// Decode attention at long context is latency-bound, not bandwidth-bound: with one head and one dependent
// FMA chain per key, a 4K-token decode step of the 1b shape took ~80 ms whatever the key width.
#include "ckernels.h"
#include "half_kernels.h"
#include <immintrin.h>
#include <math.h>

typedef struct {
    const float *q, *keys, *values;
    int cells, heads, kv_heads, dk, dv;
    float scale;
    const int32_t *positions, *sequences;
    int32_t query_position, sequence, window_low;
    const float *cell_cos, *cell_sin;
    int table_stride, table_heads;
    float *scores, *out, *probabilities;
} attention_job;

// Lanes [0, r) set, for the last r (1 to 7) floats of a row: pruned heads (widths such as 44 or 45) finish in
// one masked vector step instead of a scalar loop. vmaskmovps never touches the masked-off addresses.
static const int32_t tail_lanes[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
static inline __m256i tail_mask(int r) { return _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - r)); }

/// The four sums of a0..a3 as one vector [sum a0, sum a1, sum a2, sum a3].
static inline __m128 reduce4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/// q_j · k for four query heads q[0..3] sharing one key of `d` values: k is loaded once, the four
/// accumulators are independent chains.
static inline __m128 dot4(const float *const q[4], const float *k, int d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 8 <= d; i += 8) {
        const __m256 kv = _mm256_loadu_ps(k + i);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q[0] + i), kv, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q[1] + i), kv, a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q[2] + i), kv, a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q[3] + i), kv, a3);
    }
    if (i < d) {
        const __m256i m = tail_mask(d - i);
        const __m256 kv = _mm256_maskload_ps(k + i, m);
        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(q[0] + i, m), kv, a0);
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(q[1] + i, m), kv, a1);
        a2 = _mm256_fmadd_ps(_mm256_maskload_ps(q[2] + i, m), kv, a2);
        a3 = _mm256_fmadd_ps(_mm256_maskload_ps(q[3] + i, m), kv, a3);
    }
    return reduce4(a0, a1, a2, a3);
}

/// q_j · R(angles) k for four query heads, half-split RoPE layout: pairs (k[i], k[i + d/2]) rotate by angle i.
/// The rotated key is computed once for the four heads.
static inline __m128 dot4_rotated(const float *const q[4], const float *k, const float *c, const float *s, int d) {
    const int half = d / 2;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < half; i += 8) {
        const __m256i m = tail_mask(half - i < 8 ? half - i : 8);
        const __m256 k1 = _mm256_maskload_ps(k + i, m), k2 = _mm256_maskload_ps(k + half + i, m);
        const __m256 cv = _mm256_maskload_ps(c + i, m), sv = _mm256_maskload_ps(s + i, m);
        const __m256 r1 = _mm256_fmsub_ps(k1, cv, _mm256_mul_ps(k2, sv));
        const __m256 r2 = _mm256_fmadd_ps(k2, cv, _mm256_mul_ps(k1, sv));
        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(q[0] + half + i, m), r2, _mm256_fmadd_ps(_mm256_maskload_ps(q[0] + i, m), r1, a0));
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(q[1] + half + i, m), r2, _mm256_fmadd_ps(_mm256_maskload_ps(q[1] + i, m), r1, a1));
        a2 = _mm256_fmadd_ps(_mm256_maskload_ps(q[2] + half + i, m), r2, _mm256_fmadd_ps(_mm256_maskload_ps(q[2] + i, m), r1, a2));
        a3 = _mm256_fmadd_ps(_mm256_maskload_ps(q[3] + half + i, m), r2, _mm256_fmadd_ps(_mm256_maskload_ps(q[3] + i, m), r1, a3));
    }
    return reduce4(a0, a1, a2, a3);
}

/// Cells ahead whose keys are prefetched in the score pass.
enum { KEY_PREFETCH = 8 };

/// Prefetches every cache line holding one of the `count` floats from `p` (rows of pruned heads, 44 or 45
/// floats, are not line-aligned).
static inline void prefetch_row(const float *p, int count) {
    if (count <= 0) return;
    const uintptr_t last = (uintptr_t)(p + count) - 1;
    for (uintptr_t line = (uintptr_t)p & ~(uintptr_t)63; line <= last; line += 64) _mm_prefetch((const char *)line, _MM_HINT_T0);
}

/// Cells per block of the weighted-value pass: the block's values (64 x dv floats) stay in L1 while every
/// query head of the group reads them.
enum { VALUE_BLOCK = 64 };

/// o[0, n) += sum over cells [c0, c1) of p[c] * v_c[0, n), n <= 32, with o held in four registers.
/// Cells are added in order, one FMA per element and cell, as a plain loop would.
static inline void accumulate_values(float *o, int n, const float *p, const float *values, long value_stride, int c0, int c1) {
    const int vectors = (n + 7) / 8;
    const __m256i last = tail_mask(n - 8 * (vectors - 1));
    __m256i m[4];
    for (int j = 0; j < 4; j++) m[j] = j < vectors - 1 ? _mm256_set1_epi32(-1) : (j == vectors - 1 ? last : _mm256_setzero_si256());
    __m256 a0 = _mm256_maskload_ps(o, m[0]), a1 = _mm256_maskload_ps(o + 8, m[1]);
    __m256 a2 = _mm256_maskload_ps(o + 16, m[2]), a3 = _mm256_maskload_ps(o + 24, m[3]);
    for (int c = c0; c < c1; c++) {
        if (p[c] == 0) continue;
        const __m256 pv = _mm256_set1_ps(p[c]);
        const float *v = values + (long)c * value_stride;
        a0 = _mm256_fmadd_ps(pv, _mm256_maskload_ps(v, m[0]), a0);
        if (vectors > 1) a1 = _mm256_fmadd_ps(pv, _mm256_maskload_ps(v + 8, m[1]), a1);
        if (vectors > 2) a2 = _mm256_fmadd_ps(pv, _mm256_maskload_ps(v + 16, m[2]), a2);
        if (vectors > 3) a3 = _mm256_fmadd_ps(pv, _mm256_maskload_ps(v + 24, m[3]), a3);
    }
    _mm256_maskstore_ps(o, m[0], a0);
    _mm256_maskstore_ps(o + 8, m[1], a1);
    _mm256_maskstore_ps(o + 16, m[2], a2);
    _mm256_maskstore_ps(o + 24, m[3], a3);
}

/// KV heads [begin, end): for each, the scores of all its query heads (each key read once for the group),
/// softmax per head, then the weighted values per head in cell blocks.
static void attention_heads(const attention_job *job, int begin, int end) {
    const int dk = job->dk, dv = job->dv, group = job->heads / job->kv_heads, cells = job->cells;
    const long key_stride = (long)job->kv_heads * dk, value_stride = (long)job->kv_heads * dv;
    const float scale = job->scale;
    for (int kv = begin; kv < end; kv++) {
        const int first = kv * group;
        const long entry = job->table_heads > 1 ? (long)kv * (dk / 2) : 0;
        int visible = 0;
        for (int c = 0; c < cells; c++) {
            const int32_t p = job->positions[c];
            if (job->sequences[c] != job->sequence || p > job->query_position || p <= job->window_low) {
                for (int g = 0; g < group; g++) job->scores[(long)(first + g) * cells + c] = -INFINITY;
                continue;
            }
            visible = 1;
            const float *k = job->keys + (long)c * key_stride + (long)kv * dk;
            // Consecutive cells of one KV head are key_stride floats apart (2 KB on the 1b shape): two keys per
            // 4 KB page, where the hardware prefetchers stop, so each key would be a miss. Fetch ahead.
            if (c + KEY_PREFETCH < cells) prefetch_row(k + KEY_PREFETCH * key_stride, dk);
            const long angles = (long)c * job->table_stride + entry;
            for (int g = 0; g < group; g += 4) {
                // A group that is not a multiple of 4 repeats its last head; only real heads are stored.
                const float *q[4];
                for (int j = 0; j < 4; j++) q[j] = job->q + (long)(first + (g + j < group ? g + j : group - 1)) * dk;
                float sums[4];
                _mm_storeu_ps(sums, job->cell_cos ? dot4_rotated(q, k, job->cell_cos + angles, job->cell_sin + angles, dk)
                                                  : dot4(q, k, dk));
                for (int j = 0; j < 4 && g + j < group; j++) job->scores[(long)(first + g + j) * cells + c] = sums[j] * scale;
            }
        }
        for (int g = 0; g < group; g++) {
            const int h = first + g;
            float *s = job->scores + (long)h * cells, *o = job->out + (long)h * dv;
            for (int i = 0; i < dv; i++) o[i] = 0;
            if (!visible) {
                if (job->probabilities) for (int c = 0; c < cells; c++) job->probabilities[(long)h * cells + c] = 0;
                continue;
            }
            ck_softmax(s, cells);
            if (job->probabilities) for (int c = 0; c < cells; c++) job->probabilities[(long)h * cells + c] = s[c];
        }
        if (!visible) continue;
        const float *values = job->values + (long)kv * dv;
        for (int c0 = 0; c0 < cells; c0 += VALUE_BLOCK) {
            const int c1 = cells - c0 < VALUE_BLOCK ? cells : c0 + VALUE_BLOCK;
            // The next block's values (strided like the keys), while this block is summed.
            for (int c = c1; c < cells && c < c1 + VALUE_BLOCK; c++) prefetch_row(values + (long)c * value_stride, dv);
            for (int g = 0; g < group; g++) {
                const int h = first + g;
                const float *p = job->scores + (long)h * cells;
                for (int i = 0; i < dv; i += 32)
                    accumulate_values(job->out + (long)h * dv + i, dv - i < 32 ? dv - i : 32, p, values + i, value_stride, c0, c1);
            }
        }
    }
}

static void attention_rows(const void *context, long first, long last) {
    attention_heads(context, (int)first, (int)last);
}

/// Attention with fewer multiply-adds than this runs on the calling thread (the hand-off costs a few µs).
static const long parallel_minimum_work = 1L << 17;

void ck_attention_decode(const float *q, const float *keys, const float *values, int cells,
                         int heads, int kv_heads, int dk, int dv, float scale,
                         const int32_t *cell_positions, const int32_t *cell_sequences,
                         int32_t query_position, int32_t sequence, int32_t window_low,
                         const float *cell_cos, const float *cell_sin, int table_stride, int table_heads,
                         float *scores, float *out, float *probabilities) {
    attention_job job = { q, keys, values, cells, heads, kv_heads, dk, dv, scale, cell_positions, cell_sequences,
                          query_position, sequence, window_low, cell_cos, cell_sin, table_stride, table_heads,
                          scores, out, probabilities };
    // KV heads are independent (each writes only its query heads' scores, outputs and probabilities): they are
    // shared with the GEMV helper thread when the step is large enough.
    const long work = (long)cells * heads * (dk + dv);
    ck_parallel_rows(attention_rows, &job, kv_heads, 1, work >= parallel_minimum_work ? ck_get_gemv_threads() : 1);
}
