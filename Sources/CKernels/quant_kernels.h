// Private declarations of the block-quantized weight kernels (q8, q4), one set per instruction-set path.
//
// Weight layout, per row of `columns` values: ceil(columns / 32) blocks; the last block of a row is padded
// with zeros. A q8 block is 34 bytes: an f16 scale d then 32 int8 q (value = d * q, |q| <= 127). A q4 block is
// 18 bytes: an f16 scale d then 16 bytes of nibbles; byte j holds element j in its low nibble and element
// j + 16 in its high nibble (value = d * (nibble - 8)). The same byte counts as GGUF Q8_0 / Q4_0.
//
// Activations (the vector x of a GEMV) are quantized per block of 32 to int8 with an f32 scale:
// q [blocks * 32] (zero padded), d [blocks]; the dot product of a weight block with an activation block is an
// exact integer sum, scaled by d_w * d_x.
//
// GEMV kernels have the signature the GEMV splitter (gemv_split.c) runs: `w` is the weight bytes viewed as
// 16-bit words, `row_words` the row stride in those words (blocks * 17 for q8, blocks * 9 for q4), and `x`
// points to a struct ck_quant_vector (cast to const float *, never read as floats).
#ifndef QUANT_KERNELS_H
#define QUANT_KERNELS_H

#include <stdint.h>
#include <string.h>

enum { QK = 32, Q8_BLOCK_BYTES = 34, Q4_BLOCK_BYTES = 18 };

/// A quantized activation vector: q [blocks * 32], d [blocks].
struct ck_quant_vector {
    const int8_t *q;
    const float *d;
    long blocks;
};

typedef void (*quant_gemv_fn)(const uint16_t *w, long rows, long row_words, const float *x, float *y);

void ck_q8_gemv_scalar(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q4_gemv_scalar(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q8_gemv_avx2(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q4_gemv_avx2(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q8_gemv_avx512(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q4_gemv_avx512(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q8_gemv_avx512vnni(const uint16_t *w, long rows, long row_words, const float *x, float *y);
void ck_q4_gemv_avx512vnni(const uint16_t *w, long rows, long row_words, const float *x, float *y);

/// Load-time quantization of rows of f32 (see quant_scalar.c).
long ck_q8_quantize_rows(const float *src, long rows, long columns, uint8_t *dst);
long ck_q4_quantize_rows(const float *src, long rows, long columns, uint8_t *dst);

/// x [columns] -> q [blocks * 32], d [blocks]; identical results on every path.
void ck_quant_vector_scalar(const float *x, long columns, int8_t *q, float *d);
void ck_quant_vector_avx2(const float *x, long columns, int8_t *q, float *d);

/// rows of blocks -> dst [rows, columns] f32 (exact: d * q in f32).
void ck_q8_dequantize_scalar(const uint8_t *w, long rows, long columns, float *dst);
void ck_q4_dequantize_scalar(const uint8_t *w, long rows, long columns, float *dst);
void ck_q8_dequantize_avx2(const uint8_t *w, long rows, long columns, float *dst);
void ck_q4_dequantize_avx2(const uint8_t *w, long rows, long columns, float *dst);

/// Blocks per row of `columns` values.
static inline long ck_quant_blocks(long columns) { return (columns + QK - 1) / QK; }

/// The f16 scale stored at the start of a block (unaligned).
static inline uint16_t ck_block_scale_bits(const uint8_t *block) {
    uint16_t bits;
    memcpy(&bits, block, 2);
    return bits;
}

#endif
