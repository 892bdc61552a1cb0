// Elementwise kernels that need exp: SwiGLU and masked softmax rows, vectorised.
#include "ckernels.h"
#include "softmax_fold.h"
#include <math.h>

void ck_swiglu(const float *gate_up, int rows, int width, float *out) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int r = 0; r < rows; r++) {
        const float *gate = gate_up + (long)r * 2 * width, *up = gate + width;
        float *o = out + (long)r * width;
        int i = 0;
        for (; i + 8 <= width; i += 8) {
            __m256 g = _mm256_loadu_ps(gate + i);
            __m256 sigmoid = _mm256_div_ps(one, _mm256_add_ps(one, ck_exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
            _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_mul_ps(g, sigmoid), _mm256_loadu_ps(up + i)));
        }
        for (; i < width; i++) o[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
    }
}

void ck_softmax(float *x, int count) {
    const float maximum = ck_largest(x, count);
    if (maximum == -INFINITY) { for (int i = 0; i < count; i++) x[i] = 0; return; }
    const float sum = ck_exponentiate(x, count, maximum);
    const __m256 inverse = _mm256_set1_ps(1.0f / sum);
    int i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse));
    for (; i < count; i++) x[i] *= 1.0f / sum;
}
