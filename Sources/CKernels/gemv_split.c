// Shares a 16-bit GEMV's rows between the calling thread and one persistent helper thread. Decode reads
// every weight once per token, and one core alone cannot draw the machine's memory bandwidth.
//
// Rows are claimed in chunks (a multiple of 4 rows, ~128 KiB of weights) from an atomic counter by both
// threads, so a helper that is descheduled (the cores are shared) costs at most the chunk it holds: the
// caller takes every chunk left. Each row is summed exactly as the unsplit kernel sums it (the kernels
// group rows by 4 from the start of a call), so results are bit-identical with and without the helper.
// One caller at a time uses the helper (a try-lock); a concurrent caller runs alone on its own thread.
// OpenBLAS runs no work during these GEMVs (it serves f32 weights and prefill's sgemm), so the two never
// compete for the cores.
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
    atomic_uint posted;   // generation of the last job
    atomic_int inside;    // 1 while the helper may read the job's fields
    atomic_flag busy;     // held by the one caller using the helper
    atomic_long next;     // first unclaimed row
    atomic_long done;     // rows finished
    gemv_fn kernel;
    const uint16_t *w;
    long rows, columns, chunk;
    const float *x;
    float *y;
} job = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ATOMIC_FLAG_INIT, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

static pthread_once_t helper_once = PTHREAD_ONCE_INIT;
static int helper_running = 0;

/// Claims and computes chunks of the current job until none is left.
static void work(void) {
    long start;
    while ((start = atomic_fetch_add(&job.next, job.chunk)) < job.rows) {
        const long count = job.rows - start < job.chunk ? job.rows - start : job.chunk;
        job.kernel(job.w + start * job.columns, count, job.columns, job.x, job.y + start);
        atomic_fetch_add_explicit(&job.done, count, memory_order_release);
    }
}

static void *helper_main(void *unused) {
    (void)unused;
    unsigned seen = 0;
    for (;;) {
        // Spin briefly (a decode step posts its GEMVs back to back), then sleep until the next job.
        int spins = 0;
        while (atomic_load(&job.posted) == seen) {
            if (++spins < 2000) { _mm_pause(); continue; }
            pthread_mutex_lock(&job.mutex);
            while (atomic_load(&job.posted) == seen) pthread_cond_wait(&job.posted_signal, &job.mutex);
            pthread_mutex_unlock(&job.mutex);
        }
        atomic_store(&job.inside, 1);
        const unsigned generation = atomic_load(&job.posted);
        if (generation != seen) {
            work();
            seen = generation;
        }
        atomic_store(&job.inside, 0);
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

/// Matrices below this many elements run on one core (the hand-off costs a few µs).
static const long split_minimum_elements = 1L << 18;

void ck_gemv_run(gemv_fn kernel, const uint16_t *w, long rows, long columns, const float *x, float *y, int threads) {
    if (threads < 2 || rows < 8 || columns <= 0 || rows * columns < split_minimum_elements) {
        kernel(w, rows, columns, x, y);
        return;
    }
    pthread_once(&helper_once, start_helper);
    if (!helper_running || atomic_flag_test_and_set_explicit(&job.busy, memory_order_acquire)) {
        kernel(w, rows, columns, x, y);
        return;
    }
    // The helper may still be leaving the previous job: wait until it reads no fields.
    while (atomic_load(&job.inside)) _mm_pause();
    long chunk = ((1L << 16) / columns) & ~3L;
    job.kernel = kernel;
    job.w = w;
    job.rows = rows;
    job.columns = columns;
    job.chunk = chunk < 4 ? 4 : chunk;
    job.x = x;
    job.y = y;
    atomic_store(&job.next, 0);
    atomic_store(&job.done, 0);
    pthread_mutex_lock(&job.mutex);
    atomic_fetch_add(&job.posted, 1);
    pthread_cond_signal(&job.posted_signal);
    pthread_mutex_unlock(&job.mutex);
    work();
    int spins = 0;
    while (atomic_load_explicit(&job.done, memory_order_acquire) < rows) {
        if (++spins < 4096) _mm_pause(); else sched_yield();  // the helper holds one chunk at most
    }
    atomic_flag_clear_explicit(&job.busy, memory_order_release);
}
