// Private declarations of the 16-bit weight kernels, one set per instruction-set path.
// Shapes: w [rows, columns] row-major 16-bit; x [columns]; y [rows]; src/dst [count].
#ifndef HALF_KERNELS_H
#define HALF_KERNELS_H

#include <stdint.h>

void ck_gemv_bf16_scalar(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_gemv_f16_scalar(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_widen_bf16_scalar(const uint16_t *src, long count, float *dst);
void ck_widen_f16_scalar(const uint16_t *src, long count, float *dst);
void ck_narrow_bf16_scalar(const float *src, long count, uint16_t *dst);
void ck_narrow_f16_scalar(const float *src, long count, uint16_t *dst);

void ck_gemv_bf16_avx2(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_gemv_f16_avx2(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_widen_bf16_avx2(const uint16_t *src, long count, float *dst);
void ck_widen_f16_avx2(const uint16_t *src, long count, float *dst);
void ck_narrow_bf16_avx2(const float *src, long count, uint16_t *dst);
void ck_narrow_f16_avx2(const float *src, long count, uint16_t *dst);

void ck_gemv_bf16_avx512(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_gemv_f16_avx512(const uint16_t *w, long rows, long columns, const float *x, float *y);
void ck_widen_bf16_avx512(const uint16_t *src, long count, float *dst);
void ck_widen_f16_avx512(const uint16_t *src, long count, float *dst);

/// Runs `body(context, first, last)` over rows [0, rows) in chunks of `chunk_rows` (at least 1), sharing the chunks with the persistent helper thread when `threads` is 2 or more and
/// no other caller holds it (gemv_split.c); returns when every row is done.
void ck_parallel_rows(void (*body)(const void *context, long first, long last), const void *context, long rows,
                      long chunk_rows, int threads);

/// Runs `kernel` on all rows, sharing them with the helper thread when `threads` is 2 (gemv_split.c).
void ck_gemv_run(void (*kernel)(const uint16_t *, long, long, const float *, float *), const uint16_t *w, long rows,
                 long columns, const float *x, float *y, int threads);

/// Scalar conversions shared by every path's tails.
static inline float ck_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}

/// f32 -> bf16 bits, round to nearest even; NaN becomes the quiet NaN 0x7FC0 (sign kept), values that round
/// past the bf16 range become infinity.
static inline uint16_t ck_f32_to_bf16(float value) {
    union { float f; uint32_t u; } v = { value };
    if ((v.u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((v.u >> 16) | 0x0040u);
    return (uint16_t)((v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16);
}

/// f32 -> IEEE binary16 bits, round to nearest even (values beyond the f16 range become infinity).
static inline uint16_t ck_f32_to_f16(float value) {
    _Float16 half = (_Float16)value;
    uint16_t bits;
    __builtin_memcpy(&bits, &half, 2);
    return bits;
}

/// IEEE binary16 -> binary32, exact for every input (subnormals, infinities, NaN payloads kept).
static inline float ck_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu;
    uint32_t mantissa = h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        exponent = 113;
        while ((mantissa & 0x400u) == 0) { mantissa <<= 1; exponent--; }
        bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
    }
    union { uint32_t u; float f; } v = { bits };
    return v.f;
}

#endif
