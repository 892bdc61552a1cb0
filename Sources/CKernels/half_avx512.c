// AVX-512 path of the 16-bit weight kernels: 16 lanes per instruction. Only these functions carry the
// avx512 target attribute (no global -mavx512 flag), and they run only after ck_path_supported(CK_PATH_AVX512).
#include "half_kernels.h"
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx2,fma,f16c")))

AVX512 static inline __m512 load_bf16x16(const uint16_t *p) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

AVX512 static inline __m512 load_f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

// Four rows at a time share each load of x; two accumulators per row hide the FMA latency.
#define GEMV_BODY_512(LOAD, WIDEN)                                                                      \
    long r = 0;                                                                                         \
    for (; r + 4 <= rows; r += 4) {                                                                     \
        const uint16_t *w0 = w + r * columns, *w1 = w0 + columns, *w2 = w1 + columns, *w3 = w2 + columns; \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
        long c = 0;                                                                                     \
        for (; c + 32 <= columns; c += 32) {                                                            \
            const __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);                 \
            a0 = _mm512_fmadd_ps(LOAD(w0 + c), x0, a0); b0 = _mm512_fmadd_ps(LOAD(w0 + c + 16), x1, b0); \
            a1 = _mm512_fmadd_ps(LOAD(w1 + c), x0, a1); b1 = _mm512_fmadd_ps(LOAD(w1 + c + 16), x1, b1); \
            a2 = _mm512_fmadd_ps(LOAD(w2 + c), x0, a2); b2 = _mm512_fmadd_ps(LOAD(w2 + c + 16), x1, b2); \
            a3 = _mm512_fmadd_ps(LOAD(w3 + c), x0, a3); b3 = _mm512_fmadd_ps(LOAD(w3 + c + 16), x1, b3); \
        }                                                                                               \
        for (; c + 16 <= columns; c += 16) {                                                            \
            const __m512 x0 = _mm512_loadu_ps(x + c);                                                   \
            a0 = _mm512_fmadd_ps(LOAD(w0 + c), x0, a0); a1 = _mm512_fmadd_ps(LOAD(w1 + c), x0, a1);     \
            a2 = _mm512_fmadd_ps(LOAD(w2 + c), x0, a2); a3 = _mm512_fmadd_ps(LOAD(w3 + c), x0, a3);     \
        }                                                                                               \
        float s0 = _mm512_reduce_add_ps(_mm512_add_ps(a0, b0)), s1 = _mm512_reduce_add_ps(_mm512_add_ps(a1, b1)); \
        float s2 = _mm512_reduce_add_ps(_mm512_add_ps(a2, b2)), s3 = _mm512_reduce_add_ps(_mm512_add_ps(a3, b3)); \
        for (; c < columns; c++) {                                                                      \
            s0 += WIDEN(w0[c]) * x[c]; s1 += WIDEN(w1[c]) * x[c];                                       \
            s2 += WIDEN(w2[c]) * x[c]; s3 += WIDEN(w3[c]) * x[c];                                       \
        }                                                                                               \
        y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3;                                         \
    }                                                                                                   \
    for (; r < rows; r++) {                                                                             \
        const uint16_t *w0 = w + r * columns;                                                           \
        __m512 a0 = _mm512_setzero_ps();                                                                \
        long c = 0;                                                                                     \
        for (; c + 16 <= columns; c += 16) a0 = _mm512_fmadd_ps(LOAD(w0 + c), _mm512_loadu_ps(x + c), a0); \
        float s0 = _mm512_reduce_add_ps(a0);                                                            \
        for (; c < columns; c++) s0 += WIDEN(w0[c]) * x[c];                                             \
        y[r] = s0;                                                                                      \
    }

AVX512 void ck_gemv_bf16_avx512(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    GEMV_BODY_512(load_bf16x16, ck_bf16_to_f32)
}

AVX512 void ck_gemv_f16_avx512(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    GEMV_BODY_512(load_f16x16, ck_f16_to_f32)
}

AVX512 void ck_widen_bf16_avx512(const uint16_t *src, long count, float *dst) {
    long i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(dst + i, load_bf16x16(src + i));
    for (; i < count; i++) dst[i] = ck_bf16_to_f32(src[i]);
}

AVX512 void ck_widen_f16_avx512(const uint16_t *src, long count, float *dst) {
    long i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(dst + i, load_f16x16(src + i));
    for (; i < count; i++) dst[i] = ck_f16_to_f32(src[i]);
}
