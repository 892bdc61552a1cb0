// Entry points of the 16-bit weight kernels: check the requested path against the CPU, then dispatch.
// A path the CPU lacks is refused (return -1) before any of its instructions can run.
#include "ckernels.h"
#include "half_kernels.h"

typedef void (*gemv_fn)(const uint16_t *, long, long, const float *, float *);
typedef void (*widen_fn)(const uint16_t *, long, float *);

static const gemv_fn gemv_table[3][2] = {
    { ck_gemv_bf16_scalar, ck_gemv_f16_scalar },
    { ck_gemv_bf16_avx2, ck_gemv_f16_avx2 },
    { ck_gemv_bf16_avx512, ck_gemv_f16_avx512 },
};

static const widen_fn widen_table[3][2] = {
    { ck_widen_bf16_scalar, ck_widen_f16_scalar },
    { ck_widen_bf16_avx2, ck_widen_f16_avx2 },
    { ck_widen_bf16_avx512, ck_widen_f16_avx512 },
};

typedef void (*narrow_fn)(const float *, long, uint16_t *);

// No AVX-512 narrowing: every CPU that has the AVX-512 path has AVX2 and F16C (ck_path_supported), and
// narrowing runs only when entries are written.
static const narrow_fn narrow_table[3][2] = {
    { ck_narrow_bf16_scalar, ck_narrow_f16_scalar },
    { ck_narrow_bf16_avx2, ck_narrow_f16_avx2 },
    { ck_narrow_bf16_avx2, ck_narrow_f16_avx2 },
};

static int valid(int path, int format) {
    return path >= CK_PATH_SCALAR && path <= CK_PATH_AVX512 && ck_path_supported(path)
        && (format == CK_HALF_BF16 || format == CK_HALF_F16);
}

static int gemv_threads = 2;

void ck_set_gemv_threads(int threads) { gemv_threads = threads < 1 ? 1 : (threads > 2 ? 2 : threads); }

int ck_get_gemv_threads(void) { return gemv_threads; }

int ck_half_gemv_threads(int path, int format, const uint16_t *w, long rows, long columns, const float *x, float *y,
                         int threads) {
    if (!valid(path, format) || rows < 0 || columns < 0) return -1;
    ck_gemv_run(gemv_table[path][format], w, rows, columns, x, y, threads);
    return 0;
}

int ck_half_gemv(int path, int format, const uint16_t *w, long rows, long columns, const float *x, float *y) {
    return ck_half_gemv_threads(path, format, w, rows, columns, x, y, gemv_threads);
}

int ck_half_widen(int path, int format, const uint16_t *src, long count, float *dst) {
    if (!valid(path, format) || count < 0) return -1;
    widen_table[path][format](src, count, dst);
    return 0;
}

int ck_half_narrow(int path, int format, const float *src, long count, uint16_t *dst) {
    if (!valid(path, format) || count < 0) return -1;
    narrow_table[path][format](src, count, dst);
    return 0;
}

long ck_half_first_nonfinite(int format, const uint16_t *src, long count) {
    // Non-finite exactly when every exponent bit is set: bf16 0x7F80, f16 0x7C00.
    const uint16_t mask = format == CK_HALF_BF16 ? 0x7F80u : 0x7C00u;
    long chunk = 0;
    // Branch-free OR over blocks (vectorises), exact search only in a block that holds one.
    while (chunk < count) {
        const long end = count - chunk > 4096 ? chunk + 4096 : count;
        int found = 0;
        for (long i = chunk; i < end; i++) found |= (src[i] & mask) == mask;
        if (found) {
            for (long i = chunk; i < end; i++) if ((src[i] & mask) == mask) return i;
        }
        chunk = end;
    }
    return -1;
}
