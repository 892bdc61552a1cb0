// AVX2 path of the block-quantized kernels. Dot products of int8 blocks use the sign trick: vpmaddubsw
// multiplies unsigned by signed bytes, so |w| (unsigned) times x carrying w's sign gives w * x, summed in
// pairs to int16 (at most 2 * 127 * 127, no saturation), then vpmaddwd with ones sums pairs to int32.
#include "quant_kernels.h"
#include "half_kernels.h"
#include <immintrin.h>

static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Eight int32 partial sums of the 32 products w[i] * x[i] (both int8, |w| <= 127 or w in [-8, 7]).
static inline __m256i block_dot(__m256i w, __m256i x) {
    const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(products, _mm256_set1_epi16(1));
}

/// The 32 nibbles of a q4 block as int8 in [-8, 7], in element order (low nibbles, then high nibbles).
static inline __m256i unpack_q4(const uint8_t *nibbles) {
    const __m128i bytes = _mm_loadu_si128((const __m128i *)nibbles);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

static inline float block_scale(const uint8_t *block) { return _cvtsh_ss(ck_block_scale_bits(block)); }

// One row at a time; two float accumulators (even and odd blocks) hide the FMA latency.
#define QUANT_GEMV_BODY(BLOCK_BYTES, LOAD_WEIGHTS)                                                        \
    const struct ck_quant_vector *v = (const struct ck_quant_vector *)(const void *)x;                 \
    const long blocks = v->blocks;                                                                      \
    for (long r = 0; r < rows; r++) {                                                                   \
        const uint8_t *row = (const uint8_t *)(w + r * row_words);                                      \
        __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();                                   \
        long b = 0;                                                                                     \
        for (; b + 2 <= blocks; b += 2) {                                                               \
            const uint8_t *b0 = row + b * BLOCK_BYTES, *b1 = b0 + BLOCK_BYTES;                          \
            const __m256i d0 = block_dot(LOAD_WEIGHTS(b0), _mm256_loadu_si256((const __m256i *)(v->q + b * QK))); \
            const __m256i d1 = block_dot(LOAD_WEIGHTS(b1), _mm256_loadu_si256((const __m256i *)(v->q + b * QK + QK))); \
            even = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(block_scale(b0) * v->d[b]), even); \
            odd = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1), _mm256_set1_ps(block_scale(b1) * v->d[b + 1]), odd); \
        }                                                                                               \
        if (b < blocks) {                                                                               \
            const uint8_t *b0 = row + b * BLOCK_BYTES;                                                  \
            const __m256i d0 = block_dot(LOAD_WEIGHTS(b0), _mm256_loadu_si256((const __m256i *)(v->q + b * QK))); \
            even = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(block_scale(b0) * v->d[b]), even); \
        }                                                                                               \
        y[r] = horizontal_sum(_mm256_add_ps(even, odd));                                                \
    }

#define LOAD_Q8(block) _mm256_loadu_si256((const __m256i *)((block) + 2))
#define LOAD_Q4(block) unpack_q4((block) + 2)

void ck_q8_gemv_avx2(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_BODY(Q8_BLOCK_BYTES, LOAD_Q8)
}

void ck_q4_gemv_avx2(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    QUANT_GEMV_BODY(Q4_BLOCK_BYTES, LOAD_Q4)
}

/// Same results as ck_quant_vector_scalar: the same IEEE operations (max of magnitudes, amax / 127,
/// 127 / amax, x * inverse rounded to nearest even, clamp to ±127).
void ck_quant_vector_avx2(const float *x, long columns, int8_t *q, float *d) {
    const long blocks = ck_quant_blocks(columns);
    const __m256 sign_mask = _mm256_set1_ps(-0.0f), limit = _mm256_set1_ps(127.0f), low = _mm256_set1_ps(-127.0f);
    for (long b = 0; b < blocks; b++) {
        const long first = b * QK;
        float padded[QK];
        const float *values = x + first;
        if (columns - first < QK) {  // the row's last, partial block: zero padded
            for (long i = 0; i < QK; i++) padded[i] = first + i < columns ? x[first + i] : 0.0f;
            values = padded;
        }
        __m256 v[4], amax = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(values + 8 * k);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
        }
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float largest = _mm_cvtss_f32(m);
        d[b] = largest / 127.0f;
        const __m256 inverse = _mm256_set1_ps(largest > 0 ? 127.0f / largest : 0.0f);
        __m256i packed[4];
        for (int k = 0; k < 4; k++) {
            __m256 scaled = _mm256_round_ps(_mm256_mul_ps(v[k], inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            scaled = _mm256_min_ps(_mm256_max_ps(scaled, low), limit);
            packed[k] = _mm256_cvtps_epi32(scaled);
        }
        // int32 -> int16 -> int8 packs work per 128-bit lane; the permute restores element order.
        const __m256i words = _mm256_packs_epi32(packed[0], packed[1]), words2 = _mm256_packs_epi32(packed[2], packed[3]);
        const __m256i bytes = _mm256_packs_epi16(words, words2);
        const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + first), ordered);
    }
}

void ck_q8_dequantize_avx2(const uint8_t *w, long rows, long columns, float *dst) {
    const long blocks = ck_quant_blocks(columns), whole = columns / QK;
    for (long r = 0; r < rows; r++) {
        const uint8_t *row = w + r * blocks * Q8_BLOCK_BYTES;
        float *out = dst + r * columns;
        for (long b = 0; b < whole; b++) {
            const uint8_t *block = row + b * Q8_BLOCK_BYTES;
            const __m256 d = _mm256_set1_ps(block_scale(block));
            for (int k = 0; k < 4; k++) {
                const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(block + 2 + 8 * k)));
                _mm256_storeu_ps(out + b * QK + 8 * k, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
            }
        }
        if (whole < blocks) ck_q8_dequantize_scalar(row + whole * Q8_BLOCK_BYTES, 1, columns - whole * QK, out + whole * QK);
    }
}

void ck_q4_dequantize_avx2(const uint8_t *w, long rows, long columns, float *dst) {
    const long blocks = ck_quant_blocks(columns), whole = columns / QK;
    for (long r = 0; r < rows; r++) {
        const uint8_t *row = w + r * blocks * Q4_BLOCK_BYTES;
        float *out = dst + r * columns;
        for (long b = 0; b < whole; b++) {
            const uint8_t *block = row + b * Q4_BLOCK_BYTES;
            const __m256 d = _mm256_set1_ps(block_scale(block));
            int8_t values[QK];
            _mm256_storeu_si256((__m256i *)values, unpack_q4(block + 2));
            for (int k = 0; k < 4; k++) {
                const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(values + 8 * k)));
                _mm256_storeu_ps(out + b * QK + 8 * k, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
            }
        }
        if (whole < blocks) ck_q4_dequantize_scalar(row + whole * Q4_BLOCK_BYTES, 1, columns - whole * QK, out + whole * QK);
    }
}
