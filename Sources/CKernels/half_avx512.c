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

// One row at a time in memory order (see the AVX2 path: interleaved rows defeat the prefetcher on short
// rows), 64 columns per pass into four accumulators.
#define GEMV_BODY_512(LOAD, WIDEN)                                                                      \
    for (long r = 0; r < rows; r++) {                                                                   \
        const uint16_t *row = w + r * columns;                                                          \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                     \
        long c = 0;                                                                                     \
        for (; c + 64 <= columns; c += 64) {                                                            \
            a0 = _mm512_fmadd_ps(LOAD(row + c), _mm512_loadu_ps(x + c), a0);                            \
            a1 = _mm512_fmadd_ps(LOAD(row + c + 16), _mm512_loadu_ps(x + c + 16), a1);                  \
            a2 = _mm512_fmadd_ps(LOAD(row + c + 32), _mm512_loadu_ps(x + c + 32), a2);                  \
            a3 = _mm512_fmadd_ps(LOAD(row + c + 48), _mm512_loadu_ps(x + c + 48), a3);                  \
        }                                                                                               \
        for (; c + 16 <= columns; c += 16) a0 = _mm512_fmadd_ps(LOAD(row + c), _mm512_loadu_ps(x + c), a0); \
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))); \
        for (; c < columns; c++) sum += WIDEN(row[c]) * x[c];                                           \
        y[r] = sum;                                                                                     \
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
