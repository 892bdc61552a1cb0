// AVX-512 path of the block-quantized GEMV: two blocks per 512-bit register. Only these functions carry
// AVX-512 target attributes (no global flag); they run only after ck_path_supported(CK_PATH_AVX512), and the
// VNNI variants only where the CPU also reports avx512vnni (quant_dispatch.c).
// Sign trick as in quant_avx2.c: |w| (unsigned) times x carrying w's sign; without VNNI vpmaddubsw + vpmaddwd,
// with VNNI one vpdpbusd. Lanes 0-7 of a product hold the first block's partial sums, lanes 8-15 the second's.
#include "quant_kernels.h"
#include "half_kernels.h"
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx2,fma,f16c")))
#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vnni,avx2,fma,f16c")))

AVX512 static inline __m512i two_blocks(__m256i first, __m256i second) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1);
}

/// |w| and x carrying w's sign (x negated where w < 0).
AVX512 static inline void sign_split(__m512i w, __m512i x, __m512i *magnitude, __m512i *signed_x) {
    *magnitude = _mm512_abs_epi8(w);
    *signed_x = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
}

AVX512 static inline __m512i dot_plain(__m512i w, __m512i x) {
    __m512i magnitude, signed_x;
    sign_split(w, x, &magnitude, &signed_x);
    return _mm512_madd_epi16(_mm512_maddubs_epi16(magnitude, signed_x), _mm512_set1_epi16(1));
}

AVX512VNNI static inline __m512i dot_vnni(__m512i w, __m512i x) {
    __m512i magnitude, signed_x;
    sign_split(w, x, &magnitude, &signed_x);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), magnitude, signed_x);
}

AVX512 static inline __m256i load_q8(const uint8_t *block) { return _mm256_loadu_si256((const __m256i *)(block + 2)); }

AVX512 static inline __m256i load_q4(const uint8_t *block) {
    const __m128i bytes = _mm_loadu_si128((const __m128i *)(block + 2));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

AVX512 static inline float scale_of(const uint8_t *block) { return _cvtsh_ss(ck_block_scale_bits(block)); }

/// Scales of two blocks spread over their lanes (0-7 and 8-15).
AVX512 static inline __m512 two_scales(float first, float second) {
    return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(first), _mm512_set1_ps(second));
}

// One row at a time; a trailing odd block goes through the low half (the high half multiplies zeros).
#define QUANT_GEMV_512(BLOCK_BYTES, LOAD, DOT)                                                            \
    const struct ck_quant_vector *v = (const struct ck_quant_vector *)(const void *)x;                 \
    const long blocks = v->blocks;                                                                      \
    for (long r = 0; r < rows; r++) {                                                                   \
        const uint8_t *row = (const uint8_t *)(w + r * row_words);                                      \
        __m512 sum = _mm512_setzero_ps();                                                               \
        long b = 0;                                                                                     \
        for (; b + 2 <= blocks; b += 2) {                                                               \
            const uint8_t *b0 = row + b * BLOCK_BYTES, *b1 = b0 + BLOCK_BYTES;                          \
            const __m512i dot = DOT(two_blocks(LOAD(b0), LOAD(b1)), _mm512_loadu_si512(v->q + b * QK)); \
            sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), two_scales(scale_of(b0) * v->d[b], scale_of(b1) * v->d[b + 1]), sum); \
        }                                                                                               \
        if (b < blocks) {                                                                               \
            const uint8_t *b0 = row + b * BLOCK_BYTES;                                                  \
            const __m512i xq = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(v->q + b * QK))); \
            const __m512i dot = DOT(two_blocks(LOAD(b0), _mm256_setzero_si256()),                       \
                                    _mm512_inserti64x4(xq, _mm256_setzero_si256(), 1));                 \
            sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), two_scales(scale_of(b0) * v->d[b], 0.0f), sum); \
        }                                                                                               \
        y[r] = _mm512_reduce_add_ps(sum);                                                               \
    }

AVX512 void ck_q8_gemv_avx512(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_512(Q8_BLOCK_BYTES, load_q8, dot_plain)
}

AVX512 void ck_q4_gemv_avx512(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_512(Q4_BLOCK_BYTES, load_q4, dot_plain)
}

AVX512VNNI void ck_q8_gemv_avx512vnni(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_512(Q8_BLOCK_BYTES, load_q8, dot_vnni)
}

AVX512VNNI void ck_q4_gemv_avx512vnni(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_512(Q4_BLOCK_BYTES, load_q4, dot_vnni)
}
