// Run-time CPU feature probe: which kernel paths this machine may execute.
#include "ckernels.h"
#include "half_kernels.h"
#include <stdatomic.h>

uint32_t ck_cpu_features(void) {
    static atomic_uint cached = 0xFFFFFFFFu;
    const uint32_t known = atomic_load_explicit(&cached, memory_order_relaxed);
    if (known != 0xFFFFFFFFu) return known;
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0), not only cpuid.
    __builtin_cpu_init();
    uint32_t features = 0;
    if (__builtin_cpu_supports("avx2")) features |= CK_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) features |= CK_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) features |= CK_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) features |= CK_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) features |= CK_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) features |= CK_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512bf16")) features |= CK_CPU_AVX512BF16;
    atomic_store_explicit(&cached, features, memory_order_relaxed);  // every thread computes the same value
    return features;
}

int ck_path_supported(int path) {
    const uint32_t features = ck_cpu_features();
    const uint32_t avx2 = CK_CPU_AVX2 | CK_CPU_FMA | CK_CPU_F16C;
    switch (path) {
    case CK_PATH_SCALAR: return 1;
    case CK_PATH_AVX2: return (features & avx2) == avx2;
    case CK_PATH_AVX512: {
        const uint32_t avx512 = avx2 | CK_CPU_AVX512F | CK_CPU_AVX512BW;
        return (features & avx512) == avx512;
    }
    default: return 0;
    }
}

int ck_best_path(void) {
    if (ck_path_supported(CK_PATH_AVX512)) return CK_PATH_AVX512;
    if (ck_path_supported(CK_PATH_AVX2)) return CK_PATH_AVX2;
    return CK_PATH_SCALAR;
}
