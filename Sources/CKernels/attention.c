// Single-query attention over a KV cache: one fused pass per head (scores, softmax, weighted values),
// on the calling thread (sub-millisecond work does not pay for a thread hand-off on 2 cores).
#include "ckernels.h"
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

static inline float dot(const float *a, const float *b, int n) {
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    if (i < n) {
        __m256i m = tail_mask(n - i);
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc);
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// q · R(angles) k for the half-split RoPE layout: pairs (k[i], k[i + d/2]) rotate by angle i.
static inline float dot_rotated(const float *q, const float *k, const float *c, const float *s, int d) {
    int half = d / 2, i = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; i + 8 <= half; i += 8) {
        __m256 k1 = _mm256_loadu_ps(k + i), k2 = _mm256_loadu_ps(k + half + i);
        __m256 cv = _mm256_loadu_ps(c + i), sv = _mm256_loadu_ps(s + i);
        __m256 r1 = _mm256_fmsub_ps(k1, cv, _mm256_mul_ps(k2, sv));
        __m256 r2 = _mm256_fmadd_ps(k2, cv, _mm256_mul_ps(k1, sv));
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), r1, acc);
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + half + i), r2, acc);
    }
    if (i < half) {
        __m256i m = tail_mask(half - i);
        __m256 k1 = _mm256_maskload_ps(k + i, m), k2 = _mm256_maskload_ps(k + half + i, m);
        __m256 cv = _mm256_maskload_ps(c + i, m), sv = _mm256_maskload_ps(s + i, m);
        __m256 r1 = _mm256_fmsub_ps(k1, cv, _mm256_mul_ps(k2, sv));
        __m256 r2 = _mm256_fmadd_ps(k2, cv, _mm256_mul_ps(k1, sv));
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, m), r1, acc);
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(q + half + i, m), r2, acc);
    }
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}

static void attention_heads(const attention_job *job, int begin, int end) {
    int dk = job->dk, dv = job->dv, group = job->heads / job->kv_heads;
    __m256i value_tail = tail_mask(dv % 8 ? dv % 8 : 8);
    int key_stride = job->kv_heads * dk, value_stride = job->kv_heads * dv;
    float scale = job->scale;
    for (int kv = begin; kv < end; kv++) {
        for (int g = 0; g < group; g++) {
            int h = kv * group + g;
            const float *q = job->q + (long)h * dk;
            long entry = job->table_heads > 1 ? (long)kv * (dk / 2) : 0;
            float *s = job->scores + (long)h * job->cells;
            float maximum = -INFINITY;
            for (int c = 0; c < job->cells; c++) {
                int32_t p = job->positions[c];
                if (job->sequences[c] != job->sequence || p > job->query_position || p <= job->window_low) { s[c] = -INFINITY; continue; }
                const float *k = job->keys + (long)c * key_stride + kv * dk;
                long angles = (long)c * job->table_stride + entry;
                s[c] = (job->cell_cos ? dot_rotated(q, k, job->cell_cos + angles, job->cell_sin + angles, dk)
                                      : dot(q, k, dk)) * scale;
                if (s[c] > maximum) maximum = s[c];
            }
            float *o = job->out + (long)h * dv;
            for (int i = 0; i < dv; i++) o[i] = 0;
            if (maximum == -INFINITY) {
                if (job->probabilities) for (int c = 0; c < job->cells; c++) job->probabilities[(long)h * job->cells + c] = 0;
                continue;
            }
            ck_softmax(s, job->cells);
            for (int c = 0; c < job->cells; c++) {
                float p = s[c];
                if (job->probabilities) job->probabilities[(long)h * job->cells + c] = p;
                if (p == 0) continue;
                const float *v = job->values + (long)c * value_stride + kv * dv;
                int i = 0;
                __m256 pv = _mm256_set1_ps(p);
                for (; i + 8 <= dv; i += 8) _mm256_storeu_ps(o + i, _mm256_fmadd_ps(pv, _mm256_loadu_ps(v + i), _mm256_loadu_ps(o + i)));
                if (i < dv) {
                    __m256 sum = _mm256_fmadd_ps(pv, _mm256_maskload_ps(v + i, value_tail), _mm256_maskload_ps(o + i, value_tail));
                    _mm256_maskstore_ps(o + i, value_tail, sum);
                }
            }
        }
    }
}

void ck_attention_decode(const float *q, const float *keys, const float *values, int cells,
                         int heads, int kv_heads, int dk, int dv, float scale,
                         const int32_t *cell_positions, const int32_t *cell_sequences,
                         int32_t query_position, int32_t sequence, int32_t window_low,
                         const float *cell_cos, const float *cell_sin, int table_stride, int table_heads,
                         float *scores, float *out, float *probabilities) {
    attention_job job = { q, keys, values, cells, heads, kv_heads, dk, dv, scale, cell_positions, cell_sequences,
                          query_position, sequence, window_low, cell_cos, cell_sin, table_stride, table_heads,
                          scores, out, probabilities };
    attention_heads(&job, 0, kv_heads);
}
