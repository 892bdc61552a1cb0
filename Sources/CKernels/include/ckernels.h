// Small C kernels for the decode path. Compiled for x86-64-v3 (AVX2, FMA, F16C); the AVX-512 path is
// compiled per function (target attribute) and runs only where ck_path_supported says so.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

/// Attention of one query token over `cells` cached cells, grouped-query heads.
/// q: [heads, dk]; keys: [cells, kv_heads, dk]; values: [cells, kv_heads, dv]; out: [heads, dv]
/// (dk, dv: key and value widths, below head_dim in a pruned model; scores are scaled by `scale`);
/// scores: scratch of ck_attention_decode_workspace(heads, cells, dv) floats; probabilities (may be NULL):
/// [heads, cells] receives the weights.
/// A cell is visible when cell_sequences[c] == sequence and window_low < cell_positions[c] <= query_position.
/// cell_cos, cell_sin (may be NULL): angles, row c at c * table_stride, with table_heads entries of dk/2
/// (1: shared by every head; else one per kv head); when given, keys are canonical (unrotated) and each
/// is rotated to its cell's angles inside the dot product (pre-RoPE attention), with no copy of the cache.
void ck_attention_decode(const float *q, const float *keys, const float *values, int cells,
                         int heads, int kv_heads, int dk, int dv, float scale,
                         const int32_t *cell_positions, const int32_t *cell_sequences,
                         int32_t query_position, int32_t sequence, int32_t window_low,
                         const float *cell_cos, const float *cell_sin, int table_stride, int table_heads,
                         float *scores, float *out, float *probabilities);

/// Floats of scratch ck_attention_decode needs.
long ck_attention_decode_workspace(int heads, int cells, int dv);

/// Attention of `queries` query tokens over `cells` cached cells (prefill), fused: scores, softmax and the
/// weighted values per tile of cells, with a running softmax; no score matrix is stored.
/// q: [queries, heads, dk]; keys: [cells, kv_heads, dk]; values: [cells, kv_heads, dv]; out: [queries, heads, dv].
/// Query t sees cell c when cell_sequences[c] == sequence, cell_positions[c] <= query_positions[t] and, with
/// has_window, cell_positions[c] > query_positions[t] - window; a query that sees nothing gets zeros.
/// workspace: ck_attention_prefill_workspace(heads, kv_heads, dk, dv) floats.
void ck_attention_prefill(const float *q, int queries, const float *keys, const float *values, int cells,
                          int heads, int kv_heads, int dk, int dv, float scale,
                          const int32_t *cell_positions, const int32_t *cell_sequences, const int32_t *query_positions,
                          int32_t sequence, int has_window, int32_t window, float *workspace, float *out);

/// Floats of workspace ck_attention_prefill needs (0 for an invalid shape).
long ck_attention_prefill_workspace(int heads, int kv_heads, int dk, int dv);

/// out[r, i] = silu(gate[r, i]) * up[r, i] for a fused [gate | up] row layout.
/// gate_up: [rows, 2 * width]; out: [rows, width].
void ck_swiglu(const float *gate_up, int rows, int width, float *out);

/// In-place softmax of `count` values; -infinity entries get exactly 0. All -infinity gives all 0.
void ck_softmax(float *x, int count);

/// Best of `repeats` read passes over a fresh `bytes`-byte buffer with `threads` threads, in GB/s.
double ck_read_bandwidth(long bytes, int threads, int repeats);

/// CPU features found at run time (bit set of CK_CPU_*), probed once.
enum {
    CK_CPU_AVX2 = 1, CK_CPU_FMA = 2, CK_CPU_F16C = 4, CK_CPU_AVX512F = 8, CK_CPU_AVX512BW = 16,
    CK_CPU_AVX512VL = 32, CK_CPU_AVX512BF16 = 64,
};
uint32_t ck_cpu_features(void);

/// Kernel paths: scalar reference, AVX2+FMA+F16C, AVX-512 (F + BW).
enum { CK_PATH_SCALAR = 0, CK_PATH_AVX2 = 1, CK_PATH_AVX512 = 2 };
/// 16-bit weight formats.
enum { CK_HALF_BF16 = 0, CK_HALF_F16 = 1 };

/// 1 when this CPU (and OS) can run `path`, else 0.
int ck_path_supported(int path);
/// The widest supported path.
int ck_best_path(void);

/// y = W x. w: [rows, columns] 16-bit row-major; x: [columns]; y: [rows]. Accumulates in f32.
/// Returns -1 (and does nothing) when `path` is unknown or unsupported here, or `format` unknown; else 0.
int ck_half_gemv(int path, int format, const uint16_t *w, long rows, long columns, const float *x, float *y);

/// ck_half_gemv with `threads` (1 or 2) cores: 2 splits the rows with one persistent helper thread when the
/// matrix is large enough (bit-identical results; see gemv_split.c).
int ck_half_gemv_threads(int path, int format, const uint16_t *w, long rows, long columns, const float *x, float *y,
                         int threads);

/// Cores ck_half_gemv uses (1 or 2; default 2, values clamped).
void ck_set_gemv_threads(int threads);
int ck_get_gemv_threads(void);

/// dst[i] = (float)src[i] for i < count (exact). Returns -1 (and does nothing) like ck_half_gemv.
int ck_half_widen(int path, int format, const uint16_t *src, long count, float *dst);

/// Most vectors ck_sgemv_batch takes at once.
enum { CK_BATCH_GEMV_MAX = 64 };

/// y[b, :] = W x[b, :] for b < count, reading W once. w: [rows, columns] f32 row-major; x: [count, columns];
/// y: [count, rows]. Returns -1 (and does nothing) unless 1 <= count <= CK_BATCH_GEMV_MAX; else 0.
int ck_sgemv_batch(const float *w, long rows, long columns, const float *x, long count, float *y);

/// ck_sgemv_batch over 16-bit weights (bf16 / f16), widened in registers: bit-identical to ck_sgemv_batch over
/// the widened matrix. AVX2 code, so `path` must be CK_PATH_AVX2 or CK_PATH_AVX512 and supported here; returns
/// -1 (and does nothing) otherwise, for an unknown format, or unless 1 <= count <= CK_BATCH_GEMV_MAX; else 0.
int ck_half_gemv_batch(int path, int format, const uint16_t *w, long rows, long columns, const float *x, long count,
                       float *y);

/// Index of the first NaN or infinity among `count` 16-bit values, or -1.
long ck_half_first_nonfinite(int format, const uint16_t *src, long count);

/// dst[i] = src[i] rounded to nearest even in `format` (bf16 or f16; NaN stays NaN, values beyond the format's
/// range become infinity). Returns -1 (and does nothing) like ck_half_widen.
int ck_half_narrow(int path, int format, const float *src, long count, uint16_t *dst);

/// Index of the first NaN or infinity among `count` f32 values, or -1.
long ck_f32_first_nonfinite(const float *src, long count);

/// Library entry q8 (Sources/CKernels/kv_q8.c): rows of `columns` values as ceil(columns / 32) blocks of 36
/// bytes, an f32 scale d then 32 int8 q (value = d * q, |q| <= 127; the last block of a row padded with
/// zeros). Unlike the weights' q8 (f16 scales), an f32 scale has f32's range, and quantizing values that are
/// already d * q gives back the same blocks.
enum { CK_KV_Q8_BLOCK_BYTES = 36 };
/// Quantizes src [rows, columns] into dst (rows * ceil(columns / 32) * 36 bytes). Returns -1, or the index in
/// src of the first element of a block holding a NaN or infinity (dst is then partly written).
long ck_kv_q8_quantize(const float *src, long rows, long columns, uint8_t *dst);
/// dst [rows, columns] = d * q of the blocks at src (exact in f32: a product of an f32 and a small integer,
/// rounded once). Returns -1, or the index of the first block whose scale is not finite (dst is then partly
/// written).
long ck_kv_q8_dequantize(const uint8_t *src, long rows, long columns, float *dst);

/// Block-quantized weight formats: 32 values per block with one f16 scale; q8 = 34-byte blocks of int8
/// (like GGUF Q8_0), q4 = 18-byte blocks of 4-bit values (like Q4_0). Rows are padded to whole blocks with
/// zeros. Layout in Sources/CKernels/quant_kernels.h.
enum { CK_QUANT_Q8 = 0, CK_QUANT_Q4 = 1 };

/// Bytes of one row of `columns` values in `format`, or -1 for an unknown format or negative columns.
long ck_quant_row_bytes(int format, long columns);

/// Quantizes `rows` rows of `columns` f32 values (src [rows, columns]) into dst (rows * ck_quant_row_bytes).
/// Returns -1 when done, else the index in src of the first element of a block that holds a NaN or infinity
/// or whose scale exceeds f16 (nothing after that block is written); 0 for an unknown format.
long ck_quant_rows(int format, const float *src, long rows, long columns, uint8_t *dst);

/// Quantizes an activation vector x [columns] per block of 32: q [blocks * 32] int8 (zero padded), d [blocks]
/// f32 scales. Identical results on every path. Returns -1 (and does nothing) for an unsupported path.
int ck_quant_vector(int path, const float *x, long columns, int8_t *q, float *d);

/// y = W x for quantized W [rows, columns] (rows * ck_quant_row_bytes bytes) and x quantized by
/// ck_quant_vector (q, d): integer dot products per block, scaled by both blocks' scales, summed in f32.
/// `threads` 2 shares rows with the GEMV helper thread (gemv_split.c). Returns -1 like ck_half_gemv.
int ck_quant_gemv(int path, int format, const uint8_t *w, long rows, long columns, const int8_t *q, const float *d,
                  float *y, int threads);

/// dst [rows, columns] = the f32 values of quantized rows w (exact: scale * integer). Returns -1 like ck_half_gemv.
int ck_quant_dequantize(int path, int format, const uint8_t *w, long rows, long columns, float *dst);

/// 1 when the AVX-512 path of the quantized GEMV runs with VNNI on this CPU.
int ck_quant_avx512_uses_vnni(void);

#endif
