// Library entry conversions that are not 16-bit: q8 with f32 scales (quantize on store, dequantize on every
// hit), and the finiteness scan of f32 payloads. Plain loops written for the compiler's vectoriser (the target
// is compiled for x86-64-v3); they need no per-path dispatch.
#include "ckernels.h"
#include <math.h>
#include <string.h>

enum { KV_QK = 32 };

long ck_f32_first_nonfinite(const float *src, long count) {
    // Non-finite exactly when every exponent bit is set. Branch-free OR over blocks, exact search only in the
    // block that holds one (as ck_half_first_nonfinite).
    long chunk = 0;
    while (chunk < count) {
        const long end = count - chunk > 4096 ? chunk + 4096 : count;
        uint32_t found = 0;
        for (long i = chunk; i < end; i++) {
            uint32_t bits;
            memcpy(&bits, src + i, 4);
            found |= (bits & 0x7F800000u) == 0x7F800000u;
        }
        if (found) {
            for (long i = chunk; i < end; i++) if (!isfinite(src[i])) return i;
        }
        chunk = end;
    }
    return -1;
}

long ck_kv_q8_quantize(const float *src, long rows, long columns, uint8_t *dst) {
    const long blocks = (columns + KV_QK - 1) / KV_QK;
    for (long r = 0; r < rows; r++) {
        const float *row = src + r * columns;
        for (long b = 0; b < blocks; b++) {
            uint8_t *block = dst + (r * blocks + b) * CK_KV_Q8_BLOCK_BYTES;
            const long first = b * KV_QK, count = columns - first < KV_QK ? columns - first : KV_QK;
            float values[KV_QK] = { 0 };
            memcpy(values, row + first, (size_t)count * sizeof(float));
            float amax = 0;
            uint32_t nonfinite = 0;
            for (int i = 0; i < KV_QK; i++) {
                uint32_t bits;
                memcpy(&bits, values + i, 4);
                nonfinite |= (bits & 0x7F800000u) == 0x7F800000u;
                amax = fmaxf(amax, fabsf(values[i]));
            }
            if (nonfinite) return r * columns + first;
            // d = amax / 127 rounded once; amax / d rounds to 127, and d is a fixed point of d -> (d * 127) / 127 in f32
            // (checked for every amax in [1, 8)), so requantizing d * q finds d and q again.
            const float d = amax / 127.0f;
            const float inverse = d > 0 ? 1.0f / d : 0.0f;
            memcpy(block, &d, 4);
            int8_t *q = (int8_t *)(block + 4);
            for (int i = 0; i < KV_QK; i++) q[i] = (int8_t)fminf(fmaxf(rintf(values[i] * inverse), -127.0f), 127.0f);
        }
    }
    return -1;
}

long ck_kv_q8_dequantize(const uint8_t *src, long rows, long columns, float *dst) {
    const long blocks = (columns + KV_QK - 1) / KV_QK;
    for (long r = 0; r < rows; r++) {
        float *row = dst + r * columns;
        for (long b = 0; b < blocks; b++) {
            const uint8_t *block = src + (r * blocks + b) * CK_KV_Q8_BLOCK_BYTES;
            float d;
            memcpy(&d, block, 4);
            if (!isfinite(d)) return r * blocks + b;
            const int8_t *q = (const int8_t *)(block + 4);
            const long first = b * KV_QK, count = columns - first < KV_QK ? columns - first : KV_QK;
            if (count == KV_QK) {
                for (int i = 0; i < KV_QK; i++) row[first + i] = d * (float)q[i];
            } else {
                for (long i = 0; i < count; i++) row[first + i] = d * (float)q[i];
            }
        }
    }
    return -1;
}
