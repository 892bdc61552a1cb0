// GEMV of a few vectors at once (continuous batching's decode steps): y[b, r] = w[r, :] . x[b, :] for
// b < count <= CK_BATCH_GEMV_MAX. Every weight row is read once for all the vectors, where OpenBLAS's sgemm
// with up to 64 rows packs (and for 16-bit weights widens) the whole matrix first and runs 2-3 times slower: at 16
// and 48 decode rows of the 0.5b shape in bf16, 3.1x and 2.2x the aggregate tok/s of panels + sgemm.
// Weights are f32, or bf16 / f16 widened to f32 in registers eight at a time (exact), so a 16-bit matrix is
// read as 16 bits and never written out widened; the sums are those of the f32 kernel over the widened
// matrix, bit for bit. Rows are shared with the persistent GEMV helper thread (ck_parallel_rows in
// gemv_split.c) when the matrix is large enough to repay the hand-off; no thread is started per call (a
// pthread_create per projection cost ~20-50 us, ~100 times per decode step of the 0.5b shape). Compiled with AVX2 +
// FMA + F16C like the rest of CKernels (x86-64-v3 is the floor the project targets).
#include "ckernels.h"
#include "half_kernels.h"
#include <immintrin.h>

static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline float load1_f32(const float *p) { return *p; }
static inline __m256 load8_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
static inline float load1_bf16(const uint16_t *p) { return ck_bf16_to_f32(*p); }
static inline __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
static inline float load1_f16(const uint16_t *p) { return ck_f16_to_f32(*p); }

// RB rows x SB vectors over all columns: RB x SB accumulators in registers, each weight vector widened once for
// SB vectors and each x vector loaded once for RB rows. Each (row, vector) sum is one 8-lane accumulator over
// the columns, its horizontal sum, then the scalar tail: the same order as one row at a time, bit for bit.
// 3 rows x 4 vectors (12 accumulators, 3 widened weights, 1 x: the 16 AVX2 registers) measured best on the
// 0.5b shape at 8 vectors: 47-62 GFLOP/s per core against 29-40 for 1 x 4, 2 x 4, 4 x 2, 4 x 3 or one row
// at a time (x of 8 vectors, 28-155 KB, was re-read from L2 for every row). Prefetching the rows two blocks
// ahead into L2 (not L1) took a decode step's GEMVs from 58-63 ms to 49-53 ms at 8 vectors.
#define MICRO(NAME, T, RB, SB)                                                                               \
    static inline void NAME##_micro_##RB##x##SB(const T *w, long r, long rows, long columns, const float *x,   \
                                                 int s0, float *y) {                                          \
        __m256 acc[RB][SB];                                                                                   \
        for (int i = 0; i < RB; i++)                                                                          \
            for (int s = 0; s < SB; s++) acc[i][s] = _mm256_setzero_ps();                                     \
        long c = 0;                                                                                           \
        for (; c + 8 <= columns; c += 8) {                                                                    \
            __m256 wide[RB];                                                                                  \
            for (int i = 0; i < RB; i++) wide[i] = load8_##NAME(w + (r + i) * columns + c);                    \
            /* Rows two blocks ahead, into L2: short rows are too short a stream for the prefetcher, and L1 */ \
            /* keeps x (a group's 4 vectors of 896 floats: 14 KB) rather than weights read once. */                    \
            if (s0 == 0 && ((c * (long)sizeof(T)) & 63) == 0 && r + 3 * RB <= rows)                                           \
                for (int i = 0; i < RB; i++) _mm_prefetch((const char *)(w + (r + 2 * RB + i) * columns + c), _MM_HINT_T1); \
            for (int s = 0; s < SB; s++) {                                                                    \
                const __m256 xv = _mm256_loadu_ps(x + (long)(s0 + s) * columns + c);                           \
                for (int i = 0; i < RB; i++) acc[i][s] = _mm256_fmadd_ps(wide[i], xv, acc[i][s]);             \
            }                                                                                                 \
        }                                                                                                     \
        for (int i = 0; i < RB; i++)                                                                          \
            for (int s = 0; s < SB; s++) {                                                                    \
                float sum = horizontal_sum(acc[i][s]);                                                        \
                for (long t = c; t < columns; t++)                                                            \
                    sum += load1_##NAME(w + (r + i) * columns + t) * x[(long)(s0 + s) * columns + t];          \
                y[(long)(s0 + s) * rows + r + i] = sum;                                                       \
            }                                                                                                 \
    }
#ifndef ROW_BLOCK
#define ROW_BLOCK 3
#endif
#ifndef GROUP_MAX
#define GROUP_MAX 4
#endif
#define MICROS_FOR(NAME, T, RB) MICRO(NAME, T, RB, 4) MICRO(NAME, T, RB, 3) MICRO(NAME, T, RB, 2) MICRO(NAME, T, RB, 1)
#define MICROS(NAME, T) MICROS_FOR(NAME, T, 1) MICROS_FOR(NAME, T, ROW_BLOCK)
#define MICRO_NAME_(NAME, RB, SB) NAME##_micro_##RB##x##SB
#define MICRO_NAME(NAME, RB, SB) MICRO_NAME_(NAME, RB, SB)
MICROS(f32, float)
MICROS(bf16, uint16_t)
MICROS(f16, uint16_t)

/// Calls the RB-row micro-kernel for `size` (1...4) vectors from s0.
#define GROUP(NAME, RB, size, w, r, rows, columns, x, s0, y)                                                 \
    switch (size) {                                                                                           \
    case 4: MICRO_NAME(NAME, RB, 4)(w, r, rows, columns, x, s0, y); break;                                    \
    case 3: MICRO_NAME(NAME, RB, 3)(w, r, rows, columns, x, s0, y); break;                                    \
    case 2: MICRO_NAME(NAME, RB, 2)(w, r, rows, columns, x, s0, y); break;                                    \
    default: MICRO_NAME(NAME, RB, 1)(w, r, rows, columns, x, s0, y); break;                                   \
    }

// Rows [first, last) for n vectors, in groups of at most GROUP_MAX of near-equal sizes (8 = 4 + 4, 7 = 4 + 3):
// each block of ROW_BLOCK weight rows is read from memory once and from L1 once per group.
#define BATCH_ROWS(NAME, T)                                                                                  \
    static void NAME##_rows(const void *weights, long first, long last, long rows, long columns, const float *x, \
                            float *y, int n) {                                                                \
        const T *w = weights;                                                                                 \
        const int groups = (n + GROUP_MAX - 1) / GROUP_MAX;                                                   \
        long r = first;                                                                                       \
        for (; r + ROW_BLOCK <= last; r += ROW_BLOCK)                                                         \
            for (int g = 0, s0 = 0; g < groups; g++) {                                                        \
                const int size = (n - s0) / (groups - g) + ((n - s0) % (groups - g) != 0);                   \
                GROUP(NAME, ROW_BLOCK, size, w, r, rows, columns, x, s0, y)                                   \
                s0 += size;                                                                                   \
            }                                                                                                 \
        for (; r < last; r++)                                                                                 \
            for (int g = 0, s0 = 0; g < groups; g++) {                                                        \
                const int size = (n - s0) / (groups - g) + ((n - s0) % (groups - g) != 0);                   \
                GROUP(NAME, 1, size, w, r, rows, columns, x, s0, y)                                           \
                s0 += size;                                                                                   \
            }                                                                                                 \
    }
BATCH_ROWS(f32, float)
BATCH_ROWS(bf16, uint16_t)
BATCH_ROWS(f16, uint16_t)

typedef void (*rows_fn)(const void *, long, long, long, long, const float *, float *, int);
static const rows_fn half_kernels[2] = {bf16_rows, f16_rows};

typedef struct {
    rows_fn kernel;
    const void *w;
    const float *x;
    float *y;
    long rows, columns;
    int count;
} batch_job;

static void batch_rows(const void *context, long first, long last) {
    const batch_job *job = context;
    job->kernel(job->w, first, last, job->rows, job->columns, job->x, job->y, job->count);
}

/// Matrices below this many weights run on the calling thread alone (the hand-off costs a few µs).
static const long split_minimum_weights = 1L << 18;

static void run(rows_fn kernel, const void *w, long rows, long columns, const float *x, long count, float *y) {
    const batch_job job = {kernel, w, x, y, rows, columns, (int)count};
    const int threads = rows * columns >= split_minimum_weights ? ck_get_gemv_threads() : 1;
    // ~64 Ki weights per chunk, as for one vector: the batch multiplies the work per weight, not the bytes.
    ck_parallel_rows(batch_rows, &job, rows, columns > 0 ? (1L << 16) / columns : rows, threads);
}

int ck_sgemv_batch(const float *w, long rows, long columns, const float *x, long count, float *y) {
    if (count < 1 || count > CK_BATCH_GEMV_MAX || rows < 0 || columns < 0) return -1;
    run(f32_rows, w, rows, columns, x, count, y);
    return 0;
}

int ck_half_gemv_batch(int path, int format, const uint16_t *w, long rows, long columns, const float *x, long count,
                       float *y) {
    if (count < 1 || count > CK_BATCH_GEMV_MAX || rows < 0 || columns < 0) return -1;
    if ((path != CK_PATH_AVX2 && path != CK_PATH_AVX512) || !ck_path_supported(path)) return -1;
    if (format != CK_HALF_BF16 && format != CK_HALF_F16) return -1;
    run(half_kernels[format], w, rows, columns, x, count, y);
    return 0;
}
