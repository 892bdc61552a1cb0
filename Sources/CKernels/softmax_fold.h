// Softmax pieces of the fused attention kernels: the largest score of a run, the masked exponentials, and the
// running ("online") softmax, where scores arrive a block of cells at a time and the output is kept scaled to
// the largest score seen so far.
#ifndef CK_SOFTMAX_FOLD_H
#define CK_SOFTMAX_FOLD_H
#include "vector_math.h"
#include <immintrin.h>
#include <math.h>

/// The largest of s[0, n) (-infinity when n is 0 or all are).
static inline float ck_largest(const float *s, int n) {
    __m256 top = _mm256_set1_ps(-INFINITY);
    int c = 0;
    for (; c + 8 <= n; c += 8) top = _mm256_max_ps(top, _mm256_loadu_ps(s + c));
    float lanes[8], result = -INFINITY;
    _mm256_storeu_ps(lanes, top);
    for (int j = 0; j < 8; j++) result = lanes[j] > result ? lanes[j] : result;
    for (; c < n; c++) result = s[c] > result ? s[c] : result;
    return result;
}

/// exp(s[c] - top) for c in [0, n) (exactly 0 where s[c] is -infinity, a masked cell), in place; returns their
/// sum. top must be finite.
static inline float ck_exponentiate(float *s, int n, float top) {
    const __m256 m = _mm256_set1_ps(top), hidden = _mm256_set1_ps(-INFINITY);
    __m256 total = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= n; c += 8) {
        const __m256 x = _mm256_loadu_ps(s + c);
        // exp(-inf - m) must be exactly 0: the clamp in ck_exp256 would give a tiny positive value.
        const __m256 e = _mm256_and_ps(ck_exp256(_mm256_sub_ps(x, m)), _mm256_cmp_ps(x, hidden, _CMP_NEQ_OQ));
        _mm256_storeu_ps(s + c, e);
        total = _mm256_add_ps(total, e);
    }
    float lanes[8], sum = 0;
    _mm256_storeu_ps(lanes, total);
    for (int j = 0; j < 8; j++) sum += lanes[j];
    for (; c < n; c++) {
        const float e = s[c] == -INFINITY ? 0 : expf(s[c] - top);
        s[c] = e;
        sum += e;
    }
    return sum;
}

/// Folds one row of block scores into the running softmax (maximum m, sum l): s[0, n) becomes exp(s - m')
/// (0 where masked, -infinity), the row's output o[0, width) is scaled by exp(m - m'), and (m, l) advance.
/// Returns 0 when no cell of the block is visible (nothing changes but s, zeroed).
static inline int ck_fold_scores(float *s, int n, float *m, float *l, float *o, int width) {
    const float block_max = ck_largest(s, n);
    if (block_max == -INFINITY) {
        for (int c = 0; c < n; c++) s[c] = 0;
        return 0;
    }
    const float next = *m > block_max ? *m : block_max;
    const float shrink = expf(*m - next);  // 0 while nothing was visible (m = -infinity)
    const float sum = ck_exponentiate(s, n, next);
    if (shrink != 1) for (int i = 0; i < width; i++) o[i] *= shrink;
    *l = *l * shrink + sum;
    *m = next;
    return 1;
}

#endif
