// Scalar reference of the block-quantized kernels: weight quantization (load time), activation quantization,
// GEMV and dequantization. The vector paths are tested against these definitions.
#include "quant_kernels.h"
#include "half_kernels.h"
#include <math.h>

/// f32 -> IEEE binary16 bits, round to nearest even (values beyond the f16 range become infinity).
static uint16_t f32_to_f16(float value) {
    _Float16 half = (_Float16)value;
    uint16_t bits;
    memcpy(&bits, &half, 2);
    return bits;
}

static void store_scale(uint8_t *block, uint16_t bits) { memcpy(block, &bits, 2); }

/// Quantizes rows of f32 values into q8 blocks. Returns -1, or the index (in `src`) of the first element of a
/// block whose scale does not fit f16 (|value| > 65504 * 127) or that holds a NaN or infinity.
long ck_q8_quantize_rows(const float *src, long rows, long columns, uint8_t *dst) {
    const long blocks = ck_quant_blocks(columns);
    for (long r = 0; r < rows; r++) {
        const float *row = src + r * columns;
        for (long b = 0; b < blocks; b++) {
            uint8_t *block = dst + (r * blocks + b) * Q8_BLOCK_BYTES;
            const long first = b * QK, count = columns - first < QK ? columns - first : QK;
            float amax = 0;
            for (long i = 0; i < count; i++) {
                const float v = row[first + i];
                if (!isfinite(v)) return r * columns + first;
                amax = fmaxf(amax, fabsf(v));
            }
            const uint16_t bits = f32_to_f16(amax / 127.0f);
            const float d = ck_f16_to_f32(bits);
            if (!isfinite(d)) return r * columns + first;
            const float inverse = d > 0 ? 1.0f / d : 0.0f;
            store_scale(block, bits);
            int8_t *q = (int8_t *)(block + 2);
            for (long i = 0; i < QK; i++) {
                const float scaled = i < count ? rintf(row[first + i] * inverse) : 0.0f;
                q[i] = (int8_t)fminf(fmaxf(scaled, -127.0f), 127.0f);
            }
        }
    }
    return -1;
}

/// Quantizes rows of f32 values into q4 blocks: d = m / -8 with m the value of largest magnitude (so m maps to
/// nibble 0 exactly), nibble = clamp(round(v / d), -8, 7) + 8. Returns like ck_q8_quantize_rows.
long ck_q4_quantize_rows(const float *src, long rows, long columns, uint8_t *dst) {
    const long blocks = ck_quant_blocks(columns);
    for (long r = 0; r < rows; r++) {
        const float *row = src + r * columns;
        for (long b = 0; b < blocks; b++) {
            uint8_t *block = dst + (r * blocks + b) * Q4_BLOCK_BYTES;
            const long first = b * QK, count = columns - first < QK ? columns - first : QK;
            float amax = 0, extreme = 0;
            for (long i = 0; i < count; i++) {
                const float v = row[first + i];
                if (!isfinite(v)) return r * columns + first;
                if (fabsf(v) > amax) { amax = fabsf(v); extreme = v; }
            }
            const uint16_t bits = f32_to_f16(extreme / -8.0f);
            const float d = ck_f16_to_f32(bits);
            if (!isfinite(d)) return r * columns + first;
            const float inverse = d != 0 ? 1.0f / d : 0.0f;
            store_scale(block, bits);
            uint8_t nibbles[QK];
            for (long i = 0; i < QK; i++) {
                const float scaled = i < count ? rintf(row[first + i] * inverse) : 0.0f;
                nibbles[i] = (uint8_t)((int)fminf(fmaxf(scaled, -8.0f), 7.0f) + 8);
            }
            for (long j = 0; j < QK / 2; j++) block[2 + j] = (uint8_t)(nibbles[j] | (nibbles[j + QK / 2] << 4));
        }
    }
    return -1;
}

void ck_quant_vector_scalar(const float *x, long columns, int8_t *q, float *d) {
    const long blocks = ck_quant_blocks(columns);
    for (long b = 0; b < blocks; b++) {
        const long first = b * QK, count = columns - first < QK ? columns - first : QK;
        float amax = 0;
        for (long i = 0; i < count; i++) amax = fmaxf(amax, fabsf(x[first + i]));
        const float scale = amax / 127.0f;
        const float inverse = amax > 0 ? 127.0f / amax : 0.0f;
        d[b] = scale;
        for (long i = 0; i < QK; i++) {
            // |x * inverse| <= 127 up to rounding; the clamp keeps it there (and maps NaN to 0 via fminf/fmaxf).
            const float scaled = i < count ? rintf(x[first + i] * inverse) : 0.0f;
            q[first + i] = (int8_t)fminf(fmaxf(scaled, -127.0f), 127.0f);
        }
    }
}

void ck_q8_gemv_scalar(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    const struct ck_quant_vector *v = (const struct ck_quant_vector *)(const void *)x;
    for (long r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)(w + r * row_words);
        float sum = 0;
        for (long b = 0; b < v->blocks; b++) {
            const uint8_t *block = row + b * Q8_BLOCK_BYTES;
            const int8_t *q = (const int8_t *)(block + 2), *a = v->q + b * QK;
            int32_t dot = 0;
            for (int i = 0; i < QK; i++) dot += (int32_t)q[i] * a[i];
            sum += (float)dot * (ck_f16_to_f32(ck_block_scale_bits(block)) * v->d[b]);
        }
        y[r] = sum;
    }
}

void ck_q4_gemv_scalar(const uint16_t *w, long rows, long row_words, const float *x, float *y) {
    const struct ck_quant_vector *v = (const struct ck_quant_vector *)(const void *)x;
    for (long r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)(w + r * row_words);
        float sum = 0;
        for (long b = 0; b < v->blocks; b++) {
            const uint8_t *block = row + b * Q4_BLOCK_BYTES;
            const int8_t *a = v->q + b * QK;
            int32_t dot = 0;
            for (int j = 0; j < QK / 2; j++) {
                dot += ((int32_t)(block[2 + j] & 0x0F) - 8) * a[j];
                dot += ((int32_t)(block[2 + j] >> 4) - 8) * a[j + QK / 2];
            }
            sum += (float)dot * (ck_f16_to_f32(ck_block_scale_bits(block)) * v->d[b]);
        }
        y[r] = sum;
    }
}

void ck_q8_dequantize_scalar(const uint8_t *w, long rows, long columns, float *dst) {
    const long blocks = ck_quant_blocks(columns);
    for (long r = 0; r < rows; r++) {
        for (long c = 0; c < columns; c++) {
            const uint8_t *block = w + (r * blocks + c / QK) * Q8_BLOCK_BYTES;
            dst[r * columns + c] = ck_f16_to_f32(ck_block_scale_bits(block)) * (float)((const int8_t *)(block + 2))[c % QK];
        }
    }
}

void ck_q4_dequantize_scalar(const uint8_t *w, long rows, long columns, float *dst) {
    const long blocks = ck_quant_blocks(columns);
    for (long r = 0; r < rows; r++) {
        for (long c = 0; c < columns; c++) {
            const uint8_t *block = w + (r * blocks + c / QK) * Q4_BLOCK_BYTES;
            const long i = c % QK;
            const int nibble = i < QK / 2 ? block[2 + i] & 0x0F : block[2 + i - QK / 2] >> 4;
            dst[r * columns + c] = ck_f16_to_f32(ck_block_scale_bits(block)) * (float)(nibble - 8);
        }
    }
}
