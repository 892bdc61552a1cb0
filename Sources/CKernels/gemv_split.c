// Splits a 16-bit GEMV's rows across two cores: the caller computes the first half while one persistent
// helper thread computes the second. Decode reads every weight once per token, and one core alone cannot
// draw the machine's memory bandwidth (measured: ~16 GB/s for one core, ~29 GB/s for two, on a 2-vCPU EPYC).
//
// One caller at a time uses the helper (a try-lock); a concurrent caller runs unsplit on its own thread.
// The split falls on a multiple of 4 rows, so each row is summed exactly as the unsplit kernel sums it:
// results are bit-identical with and without the helper. OpenBLAS is not running during decode's GEMVs (its
// threads serve sgemm/sgemv of f32 weights only), so the two never compete for the cores.
#include "ckernels.h"
#include "half_kernels.h"
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

typedef void (*gemv_fn)(const uint16_t *, long, long, const float *, float *);

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t posted_signal;
    atomic_uint posted;    // generation of the last job handed to the helper
    atomic_uint finished;  // generation the helper last completed
    atomic_flag busy;      // held by the one caller using the helper
    gemv_fn kernel;
    const uint16_t *w;
    long rows, columns;
    const float *x;
    float *y;
} split = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ATOMIC_FLAG_INIT, 0, 0, 0, 0, 0, 0 };

static pthread_once_t helper_once = PTHREAD_ONCE_INIT;
static int helper_running = 0;

static void *helper_main(void *unused) {
    (void)unused;
    unsigned seen = 0;
    for (;;) {
        // Spin briefly (jobs come back to back within a decode step), then sleep until the next one.
        int spins = 0;
        while (atomic_load_explicit(&split.posted, memory_order_acquire) == seen) {
            if (++spins < 20000) { _mm_pause(); continue; }
            pthread_mutex_lock(&split.mutex);
            while (atomic_load_explicit(&split.posted, memory_order_acquire) == seen)
                pthread_cond_wait(&split.posted_signal, &split.mutex);
            pthread_mutex_unlock(&split.mutex);
        }
        seen = atomic_load_explicit(&split.posted, memory_order_acquire);
        split.kernel(split.w, split.rows, split.columns, split.x, split.y);
        atomic_store_explicit(&split.finished, seen, memory_order_release);
    }
    return 0;
}

static void start_helper(void) {
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    helper_running = pthread_create(&thread, &attributes, helper_main, 0) == 0;
    pthread_attr_destroy(&attributes);
}

/// Rows below which splitting costs more than it saves (hand-off ~ a few µs; 256 K elements ~ 20 µs).
static const long split_minimum_elements = 1L << 18;

void ck_gemv_run(gemv_fn kernel, const uint16_t *w, long rows, long columns, const float *x, float *y, int threads) {
    const long half = (rows / 8) * 4;  // a multiple of 4 rows: same per-row sums as unsplit
    if (threads < 2 || half == 0 || rows * columns < split_minimum_elements) {
        kernel(w, rows, columns, x, y);
        return;
    }
    pthread_once(&helper_once, start_helper);
    if (!helper_running || atomic_flag_test_and_set_explicit(&split.busy, memory_order_acquire)) {
        kernel(w, rows, columns, x, y);
        return;
    }
    split.kernel = kernel;
    split.w = w + half * columns;
    split.rows = rows - half;
    split.columns = columns;
    split.x = x;
    split.y = y + half;
    pthread_mutex_lock(&split.mutex);
    const unsigned generation = atomic_load_explicit(&split.posted, memory_order_relaxed) + 1;
    atomic_store_explicit(&split.posted, generation, memory_order_release);
    pthread_cond_signal(&split.posted_signal);
    pthread_mutex_unlock(&split.mutex);
    kernel(w, half, columns, x, y);
    int spins = 0;
    while (atomic_load_explicit(&split.finished, memory_order_acquire) != generation) {
        if (++spins < 4096) _mm_pause(); else sched_yield();  // the helper may have been descheduled
    }
    atomic_flag_clear_explicit(&split.busy, memory_order_release);
}
