// Entry points of the block-quantized kernels: check the requested path against the CPU, then dispatch.
// A path the CPU lacks is refused (return -1) before any of its instructions can run. The AVX-512 path uses
// VNNI (vpdpbusd) only where the CPU reports avx512vnni.
#include "ckernels.h"
#include "quant_kernels.h"
#include "half_kernels.h"

static int has_vnni(void) {
    static int cached = -1;  // every thread computes the same value
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    }
    return cached;
}

static int valid(int path, int format) {
    return path >= CK_PATH_SCALAR && path <= CK_PATH_AVX512 && ck_path_supported(path)
        && (format == CK_QUANT_Q8 || format == CK_QUANT_Q4);
}

long ck_quant_row_bytes(int format, long columns) {
    if (columns < 0 || (format != CK_QUANT_Q8 && format != CK_QUANT_Q4)) return -1;
    return ck_quant_blocks(columns) * (format == CK_QUANT_Q8 ? Q8_BLOCK_BYTES : Q4_BLOCK_BYTES);
}

int ck_quant_avx512_uses_vnni(void) { return ck_path_supported(CK_PATH_AVX512) && has_vnni(); }

long ck_quant_rows(int format, const float *src, long rows, long columns, uint8_t *dst) {
    if (rows < 0 || columns < 0) return 0;
    switch (format) {
    case CK_QUANT_Q8: return ck_q8_quantize_rows(src, rows, columns, dst);
    case CK_QUANT_Q4: return ck_q4_quantize_rows(src, rows, columns, dst);
    default: return 0;
    }
}

int ck_quant_vector(int path, const float *x, long columns, int8_t *q, float *d) {
    if (!valid(path, CK_QUANT_Q8) || columns < 0) return -1;
    if (path == CK_PATH_SCALAR) ck_quant_vector_scalar(x, columns, q, d);
    else ck_quant_vector_avx2(x, columns, q, d);
    return 0;
}

int ck_quant_gemv(int path, int format, const uint8_t *w, long rows, long columns, const int8_t *q, const float *d,
                  float *y, int threads) {
    if (!valid(path, format) || rows < 0 || columns < 0) return -1;
    static const quant_gemv_fn table[3][2] = {
        { ck_q8_gemv_scalar, ck_q4_gemv_scalar },
        { ck_q8_gemv_avx2, ck_q4_gemv_avx2 },
        { ck_q8_gemv_avx512, ck_q4_gemv_avx512 },
    };
    quant_gemv_fn kernel = table[path][format];
    if (path == CK_PATH_AVX512 && has_vnni()) kernel = format == CK_QUANT_Q8 ? ck_q8_gemv_avx512vnni : ck_q4_gemv_avx512vnni;
    const struct ck_quant_vector vector = { q, d, ck_quant_blocks(columns) };
    // The splitter sees rows of 16-bit words (every block is an even number of bytes) and passes `x` through.
    const long row_words = ck_quant_row_bytes(format, columns) / 2;
    ck_gemv_run(kernel, (const uint16_t *)(const void *)w, rows, row_words, (const float *)(const void *)&vector, y, threads);
    return 0;
}

int ck_quant_dequantize(int path, int format, const uint8_t *w, long rows, long columns, float *dst) {
    if (!valid(path, format) || rows < 0 || columns < 0) return -1;
    if (path == CK_PATH_SCALAR) {
        if (format == CK_QUANT_Q8) ck_q8_dequantize_scalar(w, rows, columns, dst);
        else ck_q4_dequantize_scalar(w, rows, columns, dst);
    } else {  // AVX-512 shares the AVX2 dequantization (the panels feed sgemm, which dominates)
        if (format == CK_QUANT_Q8) ck_q8_dequantize_avx2(w, rows, columns, dst);
        else ck_q4_dequantize_avx2(w, rows, columns, dst);
    }
    return 0;
}
