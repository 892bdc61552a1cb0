// AVX2 + FMA + F16C path of the 16-bit weight kernels (the baseline of every machine Reanchor targets).
// bf16 -> f32 is a 16-bit left shift of the zero-extended value; f16 -> f32 is F16C's vcvtph2ps. Both are exact.
#include "half_kernels.h"
#include <immintrin.h>

static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

static inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One row at a time, 32 columns per pass into four accumulators (hiding the FMA latency); x stays in L1.
// Rows are read strictly in memory order: with four rows interleaved, each row of a 896-column matrix is a
// 1.8 KB stream that the hardware prefetcher barely trains on, and decode of the 0.5b shape drew 18 GB/s
// over two cores; read in order, the same matrices stream at 27-35 GB/s (standalone harness, AVX2 EPYC).
// LOAD is load_bf16x8 or load_f16x8; WIDEN the matching scalar conversion for the column tail.
#define GEMV_BODY(LOAD, WIDEN)                                                                          \
    for (long r = 0; r < rows; r++) {                                                                   \
        const uint16_t *row = w + r * columns;                                                          \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                     \
        long c = 0;                                                                                     \
        for (; c + 32 <= columns; c += 32) {                                                            \
            a0 = _mm256_fmadd_ps(LOAD(row + c), _mm256_loadu_ps(x + c), a0);                            \
            a1 = _mm256_fmadd_ps(LOAD(row + c + 8), _mm256_loadu_ps(x + c + 8), a1);                    \
            a2 = _mm256_fmadd_ps(LOAD(row + c + 16), _mm256_loadu_ps(x + c + 16), a2);                  \
            a3 = _mm256_fmadd_ps(LOAD(row + c + 24), _mm256_loadu_ps(x + c + 24), a3);                  \
        }                                                                                               \
        for (; c + 8 <= columns; c += 8) a0 = _mm256_fmadd_ps(LOAD(row + c), _mm256_loadu_ps(x + c), a0); \
        float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));       \
        for (; c < columns; c++) sum += WIDEN(row[c]) * x[c];                                           \
        y[r] = sum;                                                                                     \
    }

void ck_gemv_bf16_avx2(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    GEMV_BODY(load_bf16x8, ck_bf16_to_f32)
}

void ck_gemv_f16_avx2(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    GEMV_BODY(load_f16x8, ck_f16_to_f32)
}

void ck_widen_bf16_avx2(const uint16_t *src, long count, float *dst) {
    long i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(dst + i, load_bf16x8(src + i));
    for (; i < count; i++) dst[i] = ck_bf16_to_f32(src[i]);
}

void ck_widen_f16_avx2(const uint16_t *src, long count, float *dst) {
    long i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(dst + i, load_f16x8(src + i));
    for (; i < count; i++) dst[i] = ck_f16_to_f32(src[i]);
}

// f32 -> bf16 round to nearest even, 8 at a time: add 0x7FFF plus the lowest kept bit, keep the top half; NaN
// lanes become the quiet NaN (as ck_f32_to_bf16). Same bits as the scalar reference for every input.
void ck_narrow_bf16_avx2(const float *src, long count, uint16_t *dst) {
    const __m256i bias = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x0040);
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF), infinity = _mm256_set1_epi32(0x7F800000);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256i bits = _mm256_castps_si256(_mm256_loadu_ps(src + i));
        const __m256i rounded = _mm256_srli_epi32(
            _mm256_add_epi32(bits, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(bits, 16), one))), 16);
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, magnitude), infinity);
        const __m256i quieted = _mm256_or_si256(_mm256_srli_epi32(bits, 16), quiet);
        const __m256i result = _mm256_blendv_epi8(rounded, quieted, nan);
        // 32-bit lanes holding 16-bit values: pack (unsigned saturation never triggers) and fix the lane order.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(result, result), 0xD8);
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_castsi256_si128(packed));
    }
    for (; i < count; i++) dst[i] = ck_f32_to_bf16(src[i]);
}

// f32 -> f16 with F16C's vcvtps2ph, round to nearest even (the scalar reference's rounding).
void ck_narrow_f16_avx2(const float *src, long count, uint16_t *dst) {
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < count; i++) dst[i] = ck_f32_to_f16(src[i]);
}
