// Single-query attention over a KV cache (decode), streamed: the cells are split into segments shared with the
// GEMV helper thread (gemv_split.c); each segment lists the query's visible cells, scores them for every KV
// head's query heads (each key read, and rotated in pre-RoPE mode, once for the group; four heads' dot
// products as independent chains), takes a softmax per head and sums the weighted values; the segments'
// partial softmaxes are merged, and the attention weights, when asked for, are written from the same pass.
// Decode attention at long context is latency-bound, not bandwidth-bound: with one head and one dependent
// FMA chain per key, a 4K-token decode step of the 1b shape took ~80 ms whatever the key width.
#include "ckernels.h"
#include "half_kernels.h"
#include "softmax_fold.h"
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

/// Prefetches every cache line holding one of the `count` floats from `p` (rows of pruned heads, 44 or 45
/// floats, are not line-aligned).
static inline void prefetch_row(const float *p, int count) {
    if (count <= 0) return;
    const uintptr_t last = (uintptr_t)(p + count) - 1;
    for (uintptr_t line = (uintptr_t)p & ~(uintptr_t)63; line <= last; line += 64) _mm_prefetch((const char *)line, _MM_HINT_T0);
}

/// q_j · k0 and q_j · k1 for four query heads and two keys: [four sums for k0 | four sums for k1]. Eight
/// independent chains, so the FMA latency is covered; each q vector is loaded once for both keys.
static inline void dot4x2(const float *const q[4], const float *k0, const float *k1, int d, float sums[8]) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int i = 0; i < d; i += 8) {
        const __m256i m = tail_mask(d - i < 8 ? d - i : 8);
        const int full = d - i >= 8;
        const __m256 x0 = full ? _mm256_loadu_ps(k0 + i) : _mm256_maskload_ps(k0 + i, m);
        const __m256 x1 = full ? _mm256_loadu_ps(k1 + i) : _mm256_maskload_ps(k1 + i, m);
        __m256 y = full ? _mm256_loadu_ps(q[0] + i) : _mm256_maskload_ps(q[0] + i, m);
        a0 = _mm256_fmadd_ps(y, x0, a0); b0 = _mm256_fmadd_ps(y, x1, b0);
        y = full ? _mm256_loadu_ps(q[1] + i) : _mm256_maskload_ps(q[1] + i, m);
        a1 = _mm256_fmadd_ps(y, x0, a1); b1 = _mm256_fmadd_ps(y, x1, b1);
        y = full ? _mm256_loadu_ps(q[2] + i) : _mm256_maskload_ps(q[2] + i, m);
        a2 = _mm256_fmadd_ps(y, x0, a2); b2 = _mm256_fmadd_ps(y, x1, b2);
        y = full ? _mm256_loadu_ps(q[3] + i) : _mm256_maskload_ps(q[3] + i, m);
        a3 = _mm256_fmadd_ps(y, x0, a3); b3 = _mm256_fmadd_ps(y, x1, b3);
    }
    _mm_storeu_ps(sums, reduce4(a0, a1, a2, a3));
    _mm_storeu_ps(sums + 4, reduce4(b0, b1, b2, b3));
}

/// o_j[0, width) += sum over i < count of p_j[i] * v_{cells[i]}[0, width) for four heads j, width <= 16: eight
/// independent accumulator chains, each value vector loaded once for the four heads.
static inline void accumulate_values4(float *const o[4], const float *const p[4], const float *values, long value_stride,
                                      const int *cells, int count, int width) {
    const __m256i m0 = tail_mask(width < 8 ? width : 8), m1 = tail_mask(width <= 8 ? 0 : (width < 16 ? width - 8 : 8));
    const int full = width == 16;
    __m256 a0 = _mm256_maskload_ps(o[0], m0), a1 = _mm256_maskload_ps(o[1], m0);
    __m256 a2 = _mm256_maskload_ps(o[2], m0), a3 = _mm256_maskload_ps(o[3], m0);
    __m256 b0 = _mm256_maskload_ps(o[0] + 8, m1), b1 = _mm256_maskload_ps(o[1] + 8, m1);
    __m256 b2 = _mm256_maskload_ps(o[2] + 8, m1), b3 = _mm256_maskload_ps(o[3] + 8, m1);
    for (int i = 0; i < count; i++) {
        const int c = cells[i];
        const float *v = values + (long)c * value_stride;
        const __m256 v0 = full ? _mm256_loadu_ps(v) : _mm256_maskload_ps(v, m0);
        const __m256 v1 = full ? _mm256_loadu_ps(v + 8) : _mm256_maskload_ps(v + 8, m1);
        __m256 x = _mm256_broadcast_ss(p[0] + i);
        a0 = _mm256_fmadd_ps(x, v0, a0); b0 = _mm256_fmadd_ps(x, v1, b0);
        x = _mm256_broadcast_ss(p[1] + i);
        a1 = _mm256_fmadd_ps(x, v0, a1); b1 = _mm256_fmadd_ps(x, v1, b1);
        x = _mm256_broadcast_ss(p[2] + i);
        a2 = _mm256_fmadd_ps(x, v0, a2); b2 = _mm256_fmadd_ps(x, v1, b2);
        x = _mm256_broadcast_ss(p[3] + i);
        a3 = _mm256_fmadd_ps(x, v0, a3); b3 = _mm256_fmadd_ps(x, v1, b3);
    }
    _mm256_maskstore_ps(o[0], m0, a0); _mm256_maskstore_ps(o[1], m0, a1);
    _mm256_maskstore_ps(o[2], m0, a2); _mm256_maskstore_ps(o[3], m0, a3);
    _mm256_maskstore_ps(o[0] + 8, m1, b0); _mm256_maskstore_ps(o[1] + 8, m1, b1);
    _mm256_maskstore_ps(o[2] + 8, m1, b2); _mm256_maskstore_ps(o[3] + 8, m1, b3);
}

/// Cells per block of the streaming kernel, the fewest cells per segment, and the most segments.
enum { STREAM_BLOCK = 64, SEGMENT_MINIMUM = 128, SEGMENTS = 8 };

long ck_attention_decode_workspace(int heads, int cells, int dv) {
    const long n = cells > 0 ? cells : 1;
    // scores [heads, cells], the segments' partial results, the visible cells' indices (int32, one per cell)
    return (long)heads * n + (long)SEGMENTS * heads * (dv + 2) + n;
}

/// The cells of [b0, b1) the query may see, in order, into `listed`; returns their count.
static inline int visible_cells(const attention_job *job, int b0, int b1, int *listed) {
    int count = 0;
    for (int c = b0; c < b1; c++) {
        const int32_t p = job->positions[c];
        if (job->sequences[c] == job->sequence && p <= job->query_position && p > job->window_low) listed[count++] = c;
    }
    return count;
}

/// Cells [begin, end) for every head, streamed in address order: the visible cells are listed first (in a
/// pool shared by running sequences a sequence's cells interleave with the others'), then two passes over
/// the list: the scores of every KV head's query heads (each key read once for its group, two cells at a
/// time), a softmax per head over the segment, then the weighted values. The cell rows (every KV head's keys
/// or values, contiguous) are read while the KV heads take their parts, so each line of the cache is
/// fetched once, and each KV head prefetches its part of the rows one block of cells ahead.
/// scores: the segment's part of [heads, cells], compact (entry i is listed cell i); listed: room for
/// end - begin indices. partial: [heads, dv] outputs scaled by exp(-m) and not yet divided by the sum, then
/// [heads] maxima m, [heads] sums. Returns the number of visible cells.
static int stream_segment(const attention_job *job, int begin, int end, int *listed, float *partial) {
    const int dk = job->dk, dv = job->dv, heads = job->heads, group = heads / job->kv_heads, cells = job->cells;
    const long key_stride = (long)job->kv_heads * dk, value_stride = (long)job->kv_heads * dv;
    float *o = partial, *m = o + (long)heads * dv, *l = m + heads;
    for (long i = 0; i < (long)heads * dv; i++) o[i] = 0;
    for (int h = 0; h < heads; h++) { m[h] = -INFINITY; l[h] = 0; }
    const int count = visible_cells(job, begin, end, listed);
    if (count == 0) return 0;
    for (int i0 = 0; i0 < count; i0 += STREAM_BLOCK) {
        const int i1 = count - i0 < STREAM_BLOCK ? count : i0 + STREAM_BLOCK;
        for (int kv = 0; kv < job->kv_heads; kv++) {
            const int first = kv * group;
            const long entry = job->table_heads > 1 ? (long)kv * (dk / 2) : 0;
            const float *keys = job->keys + (long)kv * dk;
            for (int g = 0; g < group; g += 4) {
                // A group that is not a multiple of 4 repeats its last head; only real heads are stored.
                const float *q[4];
                for (int j = 0; j < 4; j++) q[j] = job->q + (long)(first + (g + j < group ? g + j : group - 1)) * dk;
                for (int i = i0; i < i1; i++) {
                    const int c = listed[i];
                    const float *k = keys + (long)c * key_stride;
                    if (g == 0) {
                        // This KV head's part of the rows one block ahead, each requested once over the pass.
                        if (i + STREAM_BLOCK < count) prefetch_row(keys + (long)listed[i + STREAM_BLOCK] * key_stride, dk);
                        if (i + 1 < i1 && i + 1 + STREAM_BLOCK < count)
                            prefetch_row(keys + (long)listed[i + 1 + STREAM_BLOCK] * key_stride, dk);
                    }
                    float sums[8];
                    const int pair = !job->cell_cos && i + 1 < i1;
                    if (pair) {
                        dot4x2(q, k, keys + (long)listed[i + 1] * key_stride, dk, sums);
                    } else {
                        const long angles = (long)c * job->table_stride + entry;
                        _mm_storeu_ps(sums, job->cell_cos ? dot4_rotated(q, k, job->cell_cos + angles, job->cell_sin + angles, dk)
                                                          : dot4(q, k, dk));
                    }
                    for (int j = 0; j < 4 && g + j < group; j++) {
                        float *row = job->scores + (long)(first + g + j) * cells + begin;
                        row[i] = sums[j] * job->scale;
                        if (pair) row[i + 1] = sums[4 + j] * job->scale;
                    }
                    i += pair;
                }
            }
        }
    }
    for (int h = 0; h < heads; h++) {
        float *s = job->scores + (long)h * cells + begin;
        m[h] = ck_largest(s, count);
        l[h] = ck_exponentiate(s, count, m[h]);
    }
    float spare[16] = { 0 };
    for (int i0 = 0; i0 < count; i0 += STREAM_BLOCK) {
        const int i1 = count - i0 < STREAM_BLOCK ? count : i0 + STREAM_BLOCK;
        for (int kv = 0; kv < job->kv_heads; kv++) {
            const int first = kv * group;
            const float *values = job->values + (long)kv * dv;
            for (int i = i1; i < count && i < i1 + STREAM_BLOCK; i++) prefetch_row(values + (long)listed[i] * value_stride, dv);
            for (int g = 0; g < group; g += 4) {
                // Heads past the group's end (repeats) write to a spare row.
                float *out[4];
                const float *p[4];
                for (int d = 0; d < dv; d += 16) {
                    for (int j = 0; j < 4; j++) {
                        const int h = first + (g + j < group ? g + j : group - 1);
                        out[j] = g + j < group ? o + (long)h * dv + d : spare;
                        p[j] = job->scores + (long)h * cells + begin + i0;
                    }
                    accumulate_values4(out, p, values + d, value_stride, listed + i0, i1 - i0, dv - d < 16 ? dv - d : 16);
                }
            }
        }
    }
    return count;
}

typedef struct {
    const attention_job *job;
    int segment_cells;
    float *partials;
    int *listed;
    int *counts;  // [segments] visible cells of each
} stream_job;

static void stream_rows(const void *context, long first, long last) {
    const stream_job *s = context;
    const long stride = (long)s->job->heads * (s->job->dv + 2);
    for (long segment = first; segment < last; segment++) {
        const int begin = (int)(segment * s->segment_cells);
        const int end = s->job->cells - begin < s->segment_cells ? s->job->cells : begin + s->segment_cells;
        s->counts[segment] = stream_segment(s->job, begin, end, s->listed + begin, s->partials + segment * stride);
    }
}

/// out[h] = the segments' outputs rescaled to the largest maximum, over the rescaled sums (zeros when no
/// cell was visible); with probabilities, each listed cell's exp(s - m) rescaled the same way (0 elsewhere).
static void merge_segments(const attention_job *job, const stream_job *stream, int segments) {
    const int heads = job->heads, dv = job->dv, cells = job->cells;
    const long stride = (long)heads * (dv + 2);
    const float *partials = stream->partials;
    for (int h = 0; h < heads; h++) {
        float *weights = job->probabilities ? job->probabilities + (long)h * cells : 0;
        if (weights) for (int c = 0; c < cells; c++) weights[c] = 0;
        float top = -INFINITY;
        for (int s = 0; s < segments; s++) {
            const float m = partials[s * stride + (long)heads * dv + h];
            top = m > top ? m : top;
        }
        float *out = job->out + (long)h * dv;
        for (int i = 0; i < dv; i++) out[i] = 0;
        if (top == -INFINITY) continue;
        float total = 0;
        for (int s = 0; s < segments; s++) {
            const float *part = partials + s * stride;
            const float m = part[(long)heads * dv + h];
            if (m == -INFINITY) continue;
            const float weight = expf(m - top);
            total += part[(long)heads * dv + heads + h] * weight;
            for (int i = 0; i < dv; i++) out[i] += part[(long)h * dv + i] * weight;
        }
        const float inverse = 1 / total;
        for (int i = 0; i < dv; i++) out[i] *= inverse;
        if (!weights) continue;
        for (int s = 0; s < segments; s++) {
            const float m = partials[s * stride + (long)heads * dv + h];
            if (m == -INFINITY) continue;
            const int begin = s * stream->segment_cells;
            const float *exponentials = job->scores + (long)h * cells + begin;
            const int *listed = stream->listed + begin;
            const float weight = expf(m - top) * inverse;
            for (int i = 0; i < stream->counts[s]; i++) weights[listed[i]] = exponentials[i] * weight;
        }
    }
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
    const long work = (long)cells * heads * (dk + dv);
    const int threads = work >= parallel_minimum_work ? ck_get_gemv_threads() : 1;
    // Segments of cells are independent partial softmaxes, merged at the end.
    int segments = cells / SEGMENT_MINIMUM;
    segments = segments < 1 ? 1 : (segments > SEGMENTS ? SEGMENTS : segments);
    float *partials = scores + (long)heads * cells;
    int counts[SEGMENTS] = { 0 };
    const stream_job stream = { &job, (cells + segments - 1) / segments, partials,
                                (int *)(partials + (long)SEGMENTS * heads * (dv + 2)), counts };
    ck_parallel_rows(stream_rows, &stream, segments, 1, threads);
    merge_segments(&job, &stream, segments);
}
