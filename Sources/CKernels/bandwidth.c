// Memory read bandwidth probe: the roofline that decode speed is compared with in the same run.
#include "ckernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>

typedef struct { const float *data; long begin, end; float sum; } read_job;

static void *read_range(void *argument) {
    read_job *job = argument;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    long i = job->begin;
    for (; i + 32 <= job->end; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(job->data + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(job->data + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(job->data + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(job->data + i + 24));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    job->sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    return 0;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

double ck_read_bandwidth(long bytes, int threads, int repeats) {
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    long count = bytes / 4;
    float *data = aligned_alloc(64, ((count * 4 + 63) / 64) * 64);
    if (!data) return 0;
    for (long i = 0; i < count; i++) data[i] = 1.0f;
    double best = 0;
    for (int r = 0; r < repeats; r++) {
        pthread_t handles[16];
        read_job jobs[16];
        double start = seconds();
        int started = 0;
        for (int t = 0; t < threads; t++) {
            jobs[t] = (read_job){ data, count * t / threads, count * (t + 1) / threads, 0 };
            if (t == 0) continue;
            if (pthread_create(&handles[t], 0, read_range, &jobs[t]) == 0) started |= 1 << t;
            else read_range(&jobs[t]);
        }
        read_range(&jobs[0]);
        for (int t = 1; t < threads; t++) if (started & (1 << t)) pthread_join(handles[t], 0);
        double rate = count * 4.0 / (seconds() - start) / 1e9;
        if (rate > best) best = rate;
    }
    free(data);
    return best;
}
