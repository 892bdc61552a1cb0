// Scalar reference of the 16-bit weight kernels: the definition the vector paths are tested against.
// Sums run in column order in one accumulator (loops kept scalar), so results are reproducible anywhere.
#include "half_kernels.h"

void ck_gemv_bf16_scalar(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    for (long r = 0; r < rows; r++) {
        const uint16_t *row = w + r * columns;
        float sum = 0;
#pragma clang loop vectorize(disable) interleave(disable)
        for (long c = 0; c < columns; c++) sum += ck_bf16_to_f32(row[c]) * x[c];
        y[r] = sum;
    }
}

void ck_gemv_f16_scalar(const uint16_t *w, long rows, long columns, const float *x, float *y) {
    for (long r = 0; r < rows; r++) {
        const uint16_t *row = w + r * columns;
        float sum = 0;
#pragma clang loop vectorize(disable) interleave(disable)
        for (long c = 0; c < columns; c++) sum += ck_f16_to_f32(row[c]) * x[c];
        y[r] = sum;
    }
}

void ck_widen_bf16_scalar(const uint16_t *src, long count, float *dst) {
#pragma clang loop vectorize(disable) interleave(disable)
    for (long i = 0; i < count; i++) dst[i] = ck_bf16_to_f32(src[i]);
}

void ck_widen_f16_scalar(const uint16_t *src, long count, float *dst) {
#pragma clang loop vectorize(disable) interleave(disable)
    for (long i = 0; i < count; i++) dst[i] = ck_f16_to_f32(src[i]);
}

void ck_narrow_bf16_scalar(const float *src, long count, uint16_t *dst) {
#pragma clang loop vectorize(disable) interleave(disable)
    for (long i = 0; i < count; i++) dst[i] = ck_f32_to_bf16(src[i]);
}

void ck_narrow_f16_scalar(const float *src, long count, uint16_t *dst) {
#pragma clang loop vectorize(disable) interleave(disable)
    for (long i = 0; i < count; i++) dst[i] = ck_f32_to_f16(src[i]);
}
