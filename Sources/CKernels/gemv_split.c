// Shares a GEMV's rows between the calling thread and one persistent helper thread. Decode reads every
// weight once per token, and one core alone cannot draw the machine's memory bandwidth. Every row-parallel
// kernel goes through here: the 16-bit and block-quantized GEMVs (ck_gemv_run), the batched GEMV of
// continuous batching and decode attention across KV heads (ck_parallel_rows), so one helper thread serves
// them all and none starts a thread.
//
// Rows are claimed in chunks (GEMVs: ~128 KiB of weights, a multiple of 4 rows where that is at least 4;
// attention: one KV head) from an atomic counter by both threads, so a helper that is descheduled (the cores
// are shared) costs at most the chunk it holds: the caller takes every chunk left. Each row is computed on its
// own, exactly as the unsplit kernel computes it, so results are bit-identical with and without the helper.
// One caller at a time uses the helper (a try-lock); a concurrent caller runs alone on its own thread.
//
// Hand-off (all atomics sequentially consistent): the caller closes the job (`open = 0`), waits until the
// helper is not inside, writes the fields, opens the job under its generation and posts it. The helper
// marks itself inside, then joins only if the job it was woken for is open under that generation.
// Closing and entering are a Dekker pair: either the caller sees the helper inside and waits, or the helper
// sees the job closed and skips it, so the helper never reads fields that are being written.
// OpenBLAS runs no work during these GEMVs (it serves f32 weights and prefill's sgemm), so the two never
// compete for the cores.
#define _GNU_SOURCE
#include "ckernels.h"
#include "half_kernels.h"
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <time.h>

typedef void (*gemv_fn)(const uint16_t *, long, long, const float *, float *);
typedef void (*rows_body)(const void *, long, long);

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t posted_signal;
    atomic_uint posted;   // generation of the last job
    atomic_uint open;     // generation of the job the helper may join, 0 while closed
    atomic_int inside;    // 1 while the helper may read the job's fields
    atomic_flag busy;     // held by the one caller using the helper
    atomic_long next;     // first unclaimed row
    atomic_long done;     // rows finished
    rows_body body;       // computes rows [first, last) of the job described by `context`
    const void *context;
    long rows, chunk;
} job = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, ATOMIC_FLAG_INIT, 0, 0, 0, 0, 0, 0 };

static pthread_once_t helper_once = PTHREAD_ONCE_INIT;
static int helper_running = 0;

/// Claims and computes chunks of the current job until none is left.
static void work(void) {
    long start;
    while ((start = atomic_fetch_add(&job.next, job.chunk)) < job.rows) {
        const long count = job.rows - start < job.chunk ? job.rows - start : job.chunk;
        job.body(job.context, start, start + count);
        atomic_fetch_add_explicit(&job.done, count, memory_order_release);
    }
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/// How long the helper spins after a job before it sleeps.
static const double spin_seconds = 200e-6;

static void *helper_main(void *unused) {
    (void)unused;
    unsigned seen = 0;
    for (;;) {
        // Spin (a decode step posts its GEMVs back to back, with attention and norms between them on the
        // caller), then sleep until the next job. The spin is bounded in time, not in pause instructions
        // (whose latency differs ~10x between CPUs): a wake-up from the condition variable costs tens of µs
        // on a VM, ~100 times per decode step, while a spin bounded at 200 µs costs a core only in the 200 µs
        // after a step's last GEMV (so it does not compete with OpenBLAS's threads in a following sgemm).
        int spins = 0;
        double spin_start = 0;
        while (atomic_load(&job.posted) == seen) {
            if ((++spins & 63) != 0) { _mm_pause(); continue; }
            const double t = now_seconds();
            if (spin_start == 0) spin_start = t;
            if (t - spin_start < spin_seconds) continue;
            pthread_mutex_lock(&job.mutex);
            while (atomic_load(&job.posted) == seen) pthread_cond_wait(&job.posted_signal, &job.mutex);
            pthread_mutex_unlock(&job.mutex);
        }
        const unsigned generation = atomic_load(&job.posted);
        atomic_store(&job.inside, 1);
        // Join only the job this wake-up was for, and only while it is open; otherwise skip it (the caller
        // is closing it, or already did it alone).
        if (atomic_load(&job.open) == generation) work();
        seen = generation;
        atomic_store(&job.inside, 0);
    }
    return 0;
}

/// CPUs this process may run on (its affinity mask, not the machine's count).
static int usable_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static void start_helper(void) {
    if (usable_cpus() < 2) return;
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    helper_running = pthread_create(&thread, &attributes, helper_main, 0) == 0;
    pthread_attr_destroy(&attributes);
}

void ck_parallel_rows(void (*body)(const void *context, long first, long last), const void *context, long rows,
                      long chunk_rows, int threads) {
    if (rows <= 0) return;
    if (threads < 2 || rows < 2) {
        body(context, 0, rows);
        return;
    }
    pthread_once(&helper_once, start_helper);
    if (!helper_running || atomic_flag_test_and_set_explicit(&job.busy, memory_order_acquire)) {
        body(context, 0, rows);
        return;
    }
    // Close the job, then wait until the helper reads no fields (it may be leaving the previous job).
    atomic_store(&job.open, 0);
    for (int spins = 0; atomic_load(&job.inside); ++spins) {
        if (spins < 4096) _mm_pause(); else sched_yield();
    }
    job.body = body;
    job.context = context;
    job.rows = rows;
    // At least 1 and at most `rows`: every claim past the end adds one chunk to `next`, which must not wrap.
    job.chunk = chunk_rows < 1 ? 1 : (chunk_rows > rows ? rows : chunk_rows);
    atomic_store(&job.next, 0);
    atomic_store(&job.done, 0);
    unsigned generation = atomic_load(&job.posted) + 1;
    if (generation == 0) generation = 1;  // 0 means closed
    atomic_store(&job.open, generation);
    pthread_mutex_lock(&job.mutex);
    atomic_store(&job.posted, generation);
    pthread_cond_signal(&job.posted_signal);
    pthread_mutex_unlock(&job.mutex);
    work();
    int spins = 0;
    while (atomic_load_explicit(&job.done, memory_order_acquire) < rows) {
        if (++spins < 4096) _mm_pause(); else sched_yield();  // the helper holds one chunk at most
    }
    atomic_store(&job.open, 0);
    atomic_flag_clear_explicit(&job.busy, memory_order_release);
}

/// One GEMV as a row-parallel job.
typedef struct {
    gemv_fn kernel;
    const uint16_t *w;
    long columns;
    const float *x;
    float *y;
} gemv_job;

static void gemv_rows(const void *context, long first, long last) {
    const gemv_job *g = context;
    g->kernel(g->w + first * g->columns, last - first, g->columns, g->x, g->y + first);
}

/// Matrices below this many elements run on one core (the hand-off costs a few µs).
static const long split_minimum_elements = 1L << 18;

void ck_gemv_run(gemv_fn kernel, const uint16_t *w, long rows, long columns, const float *x, float *y, int threads) {
    if (threads < 2 || rows < 8 || columns <= 0 || rows * columns < split_minimum_elements) {
        kernel(w, rows, columns, x, y);
        return;
    }
    const gemv_job g = { kernel, w, columns, x, y };
    ck_parallel_rows(gemv_rows, &g, rows, ((1L << 16) / columns) & ~3L, threads);
}
