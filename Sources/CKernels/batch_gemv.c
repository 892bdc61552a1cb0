// f32 GEMV of a few vectors at once (continuous batching's decode steps): y[b, r] = w[r, :] . x[b, :] for
// b < count <= CK_BATCH_GEMV_MAX. Every weight row is read once for all the vectors, where OpenBLAS's sgemm
// with 2-8 rows packs the whole matrix first and runs several times slower than one sgemv per vector.
// Rows are split in two halves between the caller and one thread started for the call when the matrix is
// large (the call is ~1 ms or more then, the thread start ~20 us). Compiled with AVX2 + FMA like the rest of
// CKernels (x86-64-v3 is the floor the project targets).
#include "ckernels.h"
#include <immintrin.h>
#include <pthread.h>

static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Rows [first, last) for exactly N vectors: N accumulators stay in registers.
#define BATCH_ROWS(N)                                                                                        \
    static void rows_##N(const float *w, long first, long last, long rows, long columns, const float *x,  \
                         float *y) {                                                                          \
        for (long r = first; r < last; r++) {                                                                 \
            const float *row = w + r * columns;                                                               \
            __m256 acc[N];                                                                                    \
            for (int b = 0; b < N; b++) acc[b] = _mm256_setzero_ps();                                         \
            long c = 0;                                                                                       \
            for (; c + 8 <= columns; c += 8) {                                                                \
                const __m256 weights = _mm256_loadu_ps(row + c);                                              \
                for (int b = 0; b < N; b++)                                                                   \
                    acc[b] = _mm256_fmadd_ps(weights, _mm256_loadu_ps(x + b * columns + c), acc[b]);          \
            }                                                                                                 \
            for (int b = 0; b < N; b++) {                                                                     \
                float sum = horizontal_sum(acc[b]);                                                           \
                for (long t = c; t < columns; t++) sum += row[t] * x[b * columns + t];                        \
                y[b * rows + r] = sum;                                                                        \
            }                                                                                                 \
        }                                                                                                     \
    }
BATCH_ROWS(1)
BATCH_ROWS(2)
BATCH_ROWS(3)
BATCH_ROWS(4)
BATCH_ROWS(5)
BATCH_ROWS(6)
BATCH_ROWS(7)
BATCH_ROWS(8)

typedef void (*rows_fn)(const float *, long, long, long, long, const float *, float *);
static const rows_fn kernels[CK_BATCH_GEMV_MAX + 1] = {0, rows_1, rows_2, rows_3, rows_4, rows_5, rows_6, rows_7, rows_8};

typedef struct {
    rows_fn kernel;
    const float *w, *x;
    float *y;
    long first, last, rows, columns;
} half_job;

static void *run_half(void *argument) {
    half_job *job = argument;
    job->kernel(job->w, job->first, job->last, job->rows, job->columns, job->x, job->y);
    return 0;
}

int ck_sgemv_batch(const float *w, long rows, long columns, const float *x, long count, float *y) {
    if (count < 1 || count > CK_BATCH_GEMV_MAX || rows < 0 || columns < 0) return -1;
    const rows_fn kernel = kernels[count];
    const long middle = rows / 2;
    pthread_t thread;
    half_job upper = {kernel, w, x, y, middle, rows, rows, columns};
    // Large matrices only (>= 1 Mi weights): below that the thread costs more than it saves.
    int split = rows * columns >= (1L << 20) && pthread_create(&thread, 0, run_half, &upper) == 0;
    kernel(w, 0, split ? middle : rows, rows, columns, x, y);
    if (split) pthread_join(thread, 0);
    return 0;
}
