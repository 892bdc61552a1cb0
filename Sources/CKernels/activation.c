// Elementwise kernels that need exp: SwiGLU and masked softmax rows, vectorised.
#include "ckernels.h"
#include "vector_math.h"
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
    float maximum = -INFINITY;
    for (int i = 0; i < count; i++) if (x[i] > maximum) maximum = x[i];
    if (maximum == -INFINITY) { for (int i = 0; i < count; i++) x[i] = 0; return; }
    __m256 m = _mm256_set1_ps(maximum), total = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        // exp(-inf - m) must be exactly 0: the clamp in ck_exp256 would give a tiny positive value.
        __m256 e = _mm256_and_ps(ck_exp256(_mm256_sub_ps(v, m)), _mm256_cmp_ps(v, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ));
        _mm256_storeu_ps(x + i, e);
        total = _mm256_add_ps(total, e);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    float sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    for (; i < count; i++) { float e = x[i] == -INFINITY ? 0 : expf(x[i] - maximum); x[i] = e; sum += e; }
    __m256 inverse = _mm256_set1_ps(1.0f / sum);
    i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse));
    for (; i < count; i++) x[i] *= 1.0f / sum;
}
