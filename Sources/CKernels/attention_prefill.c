// Attention of many queries over a KV cache (prefill, warm suffixes, blend's recomputed rows), fused in the
// manner of FlashAttention: scores are computed one tile of 64 cells at a time, folded into a running
// softmax (row maximum m, sum l) and multiplied into the output at once, so no [queries x cells] score
// matrix is written. Before, each head took two sgemm calls with a softmax between them: the score block
// (128 rows x every cell, 2 MB at 4K context) went out of L2 and back three times, the mask and softmax ran
// on one core, and OpenBLAS's threads spun while they did. Here both cores share (KV head, query block)
// items, every key tile is packed once per item for ~128 query rows, and the cost of a head shrinks with its
// key and value widths (RoPE-aligned pruning), since nothing per score depends on them but the products.
#include "ckernels.h"
#include <stdlib.h>
#include "half_kernels.h"
#include "softmax_fold.h"
#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>

/// Cells per tile; the tile is packed as TILE / PANEL panels of [dk][PANEL] floats.
enum { TILE = 64, PANEL = 16 };
/// Query rows per micro-kernel step (6 rows x 16 cells = 12 accumulators), and per item (a KV head's
/// query heads for a run of tokens): the rows that share one packed tile.
enum { MR = 6, ROWS_PER_ITEM = 128 };

typedef struct {
    const float *q, *keys, *values;
    int queries, cells, heads, kv_heads, dk, dv;
    float scale;
    const int32_t *positions, *sequences, *query_positions;
    /// The sequence's cells, ascending, when others' cells sit among them (NULL: tiles are runs of cells).
    const int32_t *own;
    int owned;
    int32_t sequence;
    int has_window;
    int32_t window;
    float *workspace;
    long slot_floats;
    int tokens_per_item, items_per_head;
    atomic_long next_item;
    float *out;
} prefill_job;

/// Tokens per item: about ROWS_PER_ITEM rows of the item's (token, query head) pairs.
static int tokens_per_item(int group) {
    const int t = ROWS_PER_ITEM / group;
    return t < 1 ? 1 : t;
}

long ck_attention_prefill_workspace(int heads, int kv_heads, int dk, int dv) {
    if (heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || dk <= 0 || dv <= 0) return 0;
    const long group = heads / kv_heads, rows = tokens_per_item((int)group) * group;
    const long padded = (dv + PANEL - 1) / PANEL * PANEL;
    // packed keys and values of a tile, scores of one step, outputs of the item (rows padded to PANEL floats,
    // plus MR spare rows), running max and sum
    const long slot = (long)dk * TILE + TILE * padded + (long)MR * TILE + (rows + MR) * padded + 2 * rows;
    return 2 * slot;
}

/// Lanes [0, r) set, r in 0...8.
static const int32_t lanes[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
static inline __m256i first_lanes(int r) { return _mm256_loadu_si256((const __m256i *)(lanes + 8 - r)); }

/// Transposes the 8 x 8 block rows[j][0, 8) into out[i * stride + j].
static inline void transpose8(const float *const rows[8], float *out, int stride) {
    const __m256 r0 = _mm256_loadu_ps(rows[0]), r1 = _mm256_loadu_ps(rows[1]), r2 = _mm256_loadu_ps(rows[2]);
    const __m256 r3 = _mm256_loadu_ps(rows[3]), r4 = _mm256_loadu_ps(rows[4]), r5 = _mm256_loadu_ps(rows[5]);
    const __m256 r6 = _mm256_loadu_ps(rows[6]), r7 = _mm256_loadu_ps(rows[7]);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3);
    const __m256 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(out + stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(out + 2 * stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(out + 3 * stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(out + 4 * stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(out + 5 * stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(out + 6 * stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(out + 7 * stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/// pack[p][d][j] = key of tile cell p * PANEL + j, dimension d (zero past n cells). Tile cell j is cell
/// `index[j]` (or j without an index) of `k`, whose keys are key_stride floats apart (2 KB on the 1b shape): a
/// cache line per key and dimension block, and too few L1 sets for a tile; the panels are contiguous.
static void pack_keys(float *pack, const float *k, long key_stride, int n, int dk, const int32_t *index) {
    static const float zeros[8] = { 0 };
    for (int b = 0; b < TILE / 8; b++) {
        float *panel = pack + (long)(b / 2) * dk * PANEL + (b % 2) * 8;
        const float *rows[8];
        for (int j = 0; j < 8; j++) {
            const int c = b * 8 + j;
            rows[j] = c < n ? k + (long)(index ? index[c] : c) * key_stride : 0;
        }
        int d = 0;
        if (b * 8 + 8 <= n) for (; d + 8 <= dk; d += 8) {
            const float *shifted[8];
            for (int j = 0; j < 8; j++) shifted[j] = rows[j] + d;
            transpose8(shifted, panel + (long)d * PANEL, PANEL);
        }
        for (; d < dk; d++)
            for (int j = 0; j < 8; j++) panel[(long)d * PANEL + j] = rows[j] ? rows[j][d] : zeros[j];
    }
}

/// Value rows of the tile, contiguous and zero-padded: pack[c][0, padded) (zero past n cells and dv, and for
/// cells of other sequences or free cells: their weight is 0, but 0 x a stale non-finite value would be NaN).
/// Tile cell c is cell `index[c]` (or c) of `v`.
static void pack_values(float *pack, const float *v, long value_stride, int n, int dv, int padded,
                        const int32_t *sequences, int32_t sequence, const int32_t *index) {
    for (int c = 0; c < TILE; c++) {
        float *row = pack + (long)c * padded;
        int i = 0;
        if (c < n && sequences[c] == sequence) {
            const float *source = v + (long)(index ? index[c] : c) * value_stride;
            for (; i + 8 <= dv; i += 8) _mm256_storeu_ps(row + i, _mm256_loadu_ps(source + i));
            for (; i < dv; i++) row[i] = source[i];
        }
        for (; i < padded; i++) row[i] = 0;
    }
}

/// s[r][0, 16) = q_r · (16 packed keys), r < MR, times scale. q: MR row pointers; panel: [dk][16].
static inline void score_panel(const float *const q[MR], const float *panel, int dk, float scale, float *s, int s_stride) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    for (int d = 0; d < dk; d++) {
        const __m256 k0 = _mm256_loadu_ps(panel + d * PANEL), k1 = _mm256_loadu_ps(panel + d * PANEL + 8);
        __m256 x = _mm256_broadcast_ss(q[0] + d);
        a00 = _mm256_fmadd_ps(x, k0, a00); a01 = _mm256_fmadd_ps(x, k1, a01);
        x = _mm256_broadcast_ss(q[1] + d);
        a10 = _mm256_fmadd_ps(x, k0, a10); a11 = _mm256_fmadd_ps(x, k1, a11);
        x = _mm256_broadcast_ss(q[2] + d);
        a20 = _mm256_fmadd_ps(x, k0, a20); a21 = _mm256_fmadd_ps(x, k1, a21);
        x = _mm256_broadcast_ss(q[3] + d);
        a30 = _mm256_fmadd_ps(x, k0, a30); a31 = _mm256_fmadd_ps(x, k1, a31);
        x = _mm256_broadcast_ss(q[4] + d);
        a40 = _mm256_fmadd_ps(x, k0, a40); a41 = _mm256_fmadd_ps(x, k1, a41);
        x = _mm256_broadcast_ss(q[5] + d);
        a50 = _mm256_fmadd_ps(x, k0, a50); a51 = _mm256_fmadd_ps(x, k1, a51);
    }
    const __m256 f = _mm256_set1_ps(scale);
    _mm256_storeu_ps(s, _mm256_mul_ps(a00, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a01, f));
    s += s_stride;
    _mm256_storeu_ps(s, _mm256_mul_ps(a10, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a11, f));
    s += s_stride;
    _mm256_storeu_ps(s, _mm256_mul_ps(a20, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a21, f));
    s += s_stride;
    _mm256_storeu_ps(s, _mm256_mul_ps(a30, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a31, f));
    s += s_stride;
    _mm256_storeu_ps(s, _mm256_mul_ps(a40, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a41, f));
    s += s_stride;
    _mm256_storeu_ps(s, _mm256_mul_ps(a50, f)); _mm256_storeu_ps(s + 8, _mm256_mul_ps(a51, f));
}

/// o_r[i0, i0 + 16) += sum over cells c < n of p[r][c] * v_c[i0, i0 + 16), r < MR. o: MR row pointers;
/// p: [MR][TILE]; v: the packed values at column i0, rows `stride` floats apart.
static inline void accumulate_panel(float *const o[MR], const float *p, const float *v, int stride, int n) {
    __m256 a00 = _mm256_loadu_ps(o[0]), a01 = _mm256_loadu_ps(o[0] + 8);
    __m256 a10 = _mm256_loadu_ps(o[1]), a11 = _mm256_loadu_ps(o[1] + 8);
    __m256 a20 = _mm256_loadu_ps(o[2]), a21 = _mm256_loadu_ps(o[2] + 8);
    __m256 a30 = _mm256_loadu_ps(o[3]), a31 = _mm256_loadu_ps(o[3] + 8);
    __m256 a40 = _mm256_loadu_ps(o[4]), a41 = _mm256_loadu_ps(o[4] + 8);
    __m256 a50 = _mm256_loadu_ps(o[5]), a51 = _mm256_loadu_ps(o[5] + 8);
    for (int c = 0; c < n; c++) {
        const float *row = v + (long)c * stride;
        const __m256 v0 = _mm256_loadu_ps(row), v1 = _mm256_loadu_ps(row + 8);
        __m256 x = _mm256_broadcast_ss(p + c);
        a00 = _mm256_fmadd_ps(x, v0, a00); a01 = _mm256_fmadd_ps(x, v1, a01);
        x = _mm256_broadcast_ss(p + TILE + c);
        a10 = _mm256_fmadd_ps(x, v0, a10); a11 = _mm256_fmadd_ps(x, v1, a11);
        x = _mm256_broadcast_ss(p + 2 * TILE + c);
        a20 = _mm256_fmadd_ps(x, v0, a20); a21 = _mm256_fmadd_ps(x, v1, a21);
        x = _mm256_broadcast_ss(p + 3 * TILE + c);
        a30 = _mm256_fmadd_ps(x, v0, a30); a31 = _mm256_fmadd_ps(x, v1, a31);
        x = _mm256_broadcast_ss(p + 4 * TILE + c);
        a40 = _mm256_fmadd_ps(x, v0, a40); a41 = _mm256_fmadd_ps(x, v1, a41);
        x = _mm256_broadcast_ss(p + 5 * TILE + c);
        a50 = _mm256_fmadd_ps(x, v0, a50); a51 = _mm256_fmadd_ps(x, v1, a51);
    }
    _mm256_storeu_ps(o[0], a00); _mm256_storeu_ps(o[0] + 8, a01);
    _mm256_storeu_ps(o[1], a10); _mm256_storeu_ps(o[1] + 8, a11);
    _mm256_storeu_ps(o[2], a20); _mm256_storeu_ps(o[2] + 8, a21);
    _mm256_storeu_ps(o[3], a30); _mm256_storeu_ps(o[3] + 8, a31);
    _mm256_storeu_ps(o[4], a40); _mm256_storeu_ps(o[4] + 8, a41);
    _mm256_storeu_ps(o[5], a50); _mm256_storeu_ps(o[5] + 8, a51);
}

/// Sets s[c] to -infinity for the cells of [0, n) the query at `position` (lowest visible position
/// above `low`) may not see: another sequence, a later position, or outside the window.
static inline void mask_row(float *s, int n, const int32_t *positions, const int32_t *sequences, int32_t sequence,
                            int32_t position, int64_t low) {
    for (int c = 0; c < n; c++) {
        const int visible = sequences[c] == sequence && positions[c] <= position && (int64_t)positions[c] > low;
        if (!visible) s[c] = -INFINITY;
    }
}

/// One item: query heads [kv * group, (kv + 1) * group) of tokens [t0, t1) over every cell.
static void prefill_item(prefill_job *job, float *slot, int kv, int t0, int t1) {
    const int dk = job->dk, dv = job->dv, group = job->heads / job->kv_heads;
    const long key_stride = (long)job->kv_heads * dk, value_stride = (long)job->kv_heads * dv;
    const long q_stride = (long)job->heads * dk, out_stride = (long)job->heads * dv;
    const int rows = (t1 - t0) * group, padded = (dv + PANEL - 1) / PANEL * PANEL;
    float *pack = slot, *value_pack = pack + (long)dk * TILE, *scores = value_pack + (long)TILE * padded;
    float *outputs = scores + (long)MR * TILE, *maxima = outputs + (long)(rows + MR) * padded, *sums = maxima + rows;
    for (long i = 0; i < (long)(rows + MR) * padded; i++) outputs[i] = 0;  // the spare rows too
    for (int r = 0; r < rows; r++) { maxima[r] = -INFINITY; sums[r] = 0; }

    // The item's query positions: the highest visible cell position and the lowest window bound.
    int32_t highest = INT32_MIN, lowest_position = INT32_MAX;
    for (int t = t0; t < t1; t++) {
        const int32_t p = job->query_positions[t];
        highest = p > highest ? p : highest;
        lowest_position = p < lowest_position ? p : lowest_position;
    }
    const int64_t window = job->window;
    const int64_t item_low = job->has_window ? (int64_t)lowest_position - window : INT64_MIN;

    // Tiles are runs of TILE cells, or of TILE of the sequence's own cells when others' sit among them.
    const int span = job->own ? job->owned : job->cells;
    int32_t gathered_positions[TILE], gathered_sequences[TILE];
    for (int c = 0; c < TILE; c++) gathered_sequences[c] = job->sequence;
    for (int c0 = 0; c0 < span; c0 += TILE) {
        const int n = span - c0 < TILE ? span - c0 : TILE;
        const int32_t *index = job->own ? job->own + c0 : 0;
        const int32_t *positions = job->positions + c0, *sequences = job->sequences + c0;
        if (index) {
            for (int c = 0; c < n; c++) gathered_positions[c] = job->positions[index[c]];
            positions = gathered_positions;
            sequences = gathered_sequences;
        }
        // What the tile holds: whether every cell is the sequence's, and the range of their positions.
        int all_own = 1, any_own = 0;
        int32_t tile_low = INT32_MAX, tile_high = INT32_MIN;
        for (int c = 0; c < n; c++) {
            if (sequences[c] != job->sequence) { all_own = 0; continue; }
            any_own = 1;
            tile_low = positions[c] < tile_low ? positions[c] : tile_low;
            tile_high = positions[c] > tile_high ? positions[c] : tile_high;
        }
        if (!any_own || tile_low > highest || (job->has_window && (int64_t)tile_high <= item_low)) continue;
        const long first = index ? 0 : c0;
        pack_keys(pack, job->keys + first * key_stride + (long)kv * dk, key_stride, n, dk, index);
        pack_values(value_pack, job->values + first * value_stride + (long)kv * dv, value_stride, n, dv, padded,
                    sequences, job->sequence, index);

        for (int r0 = 0; r0 < rows; r0 += MR) {
            const int live = rows - r0 < MR ? rows - r0 : MR;
            const float *q[MR];
            float *o[MR];
            int32_t step_low_position = INT32_MAX, step_high_position = INT32_MIN;
            for (int j = 0; j < MR; j++) {
                // Rows past the item's end repeat its last row and write to the spare output rows.
                const int r = r0 + (j < live ? j : live - 1);
                const int t = t0 + r / group, h = kv * group + r % group;
                q[j] = job->q + (long)t * q_stride + (long)h * dk;
                o[j] = outputs + (long)(j < live ? r0 + j : rows + j) * padded;
                const int32_t p = job->query_positions[t];
                step_low_position = p < step_low_position ? p : step_low_position;
                step_high_position = p > step_high_position ? p : step_high_position;
            }
            const int64_t step_low = job->has_window ? (int64_t)step_low_position - window : INT64_MIN;
            const int64_t step_high_low = job->has_window ? (int64_t)step_high_position - window : INT64_MIN;
            if (tile_low > step_high_position || (int64_t)tile_high <= step_low) continue;  // nothing visible
            const int whole = all_own && tile_high <= step_low_position && (int64_t)tile_low > step_high_low;

            for (int p = 0; p < (n + PANEL - 1) / PANEL; p++)
                score_panel(q, pack + (long)p * dk * PANEL, dk, job->scale, scores + p * PANEL, TILE);
            int any = 0;
            for (int j = 0; j < MR; j++) {
                float *s = scores + j * TILE;
                if (j >= live) { for (int c = 0; c < n; c++) s[c] = 0; continue; }
                const int r = r0 + j, t = t0 + r / group;
                if (!whole) {
                    const int32_t position = job->query_positions[t];
                    mask_row(s, n, positions, sequences, job->sequence, position,
                             job->has_window ? (int64_t)position - window : INT64_MIN);
                }
                any |= ck_fold_scores(s, n, maxima + r, sums + r, o[j], padded);
            }
            if (!any) continue;
            for (int i = 0; i < padded; i += PANEL) {
                float *shifted[MR];
                for (int j = 0; j < MR; j++) shifted[j] = o[j] + i;
                accumulate_panel(shifted, scores, value_pack + i, padded, n);
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        const int t = t0 + r / group, h = kv * group + r % group;
        float *target = job->out + (long)t * out_stride + (long)h * dv;
        const float *o = outputs + (long)r * padded;
        // A query that sees no cell gets zeros, as the softmax of an all-masked row does elsewhere.
        const float inverse = sums[r] > 0 ? 1 / sums[r] : 0;
        for (int i = 0; i < dv; i++) target[i] = o[i] * inverse;
    }
}

/// Worker `first..last` (one per thread): claims items until none is left.
static void prefill_workers(const void *context, long first, long last) {
    prefill_job *job = (prefill_job *)context;
    const long items = (long)job->kv_heads * job->items_per_head;
    for (long worker = first; worker < last; worker++) {
        float *slot = job->workspace + worker * job->slot_floats;
        for (long item = atomic_fetch_add(&job->next_item, 1); item < items; item = atomic_fetch_add(&job->next_item, 1)) {
            const int kv = (int)(item / job->items_per_head), block = (int)(item % job->items_per_head);
            const int t0 = block * job->tokens_per_item;
            const int t1 = job->queries - t0 < job->tokens_per_item ? job->queries : t0 + job->tokens_per_item;
            prefill_item(job, slot, kv, t0, t1);
        }
    }
}

void ck_attention_prefill(const float *q, int queries, const float *keys, const float *values, int cells,
                          int heads, int kv_heads, int dk, int dv, float scale,
                          const int32_t *cell_positions, const int32_t *cell_sequences, const int32_t *query_positions,
                          int32_t sequence, int has_window, int32_t window, float *workspace, float *out) {
    if (queries <= 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || dk <= 0 || dv <= 0) return;
    const int group = heads / kv_heads, per_item = tokens_per_item(group);
    // The sequence's own cells: when fewer than all (a shared pool, where running and parked sequences
    // interleave), tiles are gathered from them, so the cost follows the sequence's cells, not the pool's span.
    int owned = 0;
    for (int c = 0; c < cells; c++) owned += cell_sequences[c] == sequence;
    int32_t *own = owned < cells ? malloc(sizeof(int32_t) * (size_t)(owned > 0 ? owned : 1)) : 0;
    if (own) {
        for (int c = 0, j = 0; c < cells; c++) if (cell_sequences[c] == sequence) own[j++] = c;
    }
    prefill_job job = { q, keys, values, queries, cells, heads, kv_heads, dk, dv, scale,
                        cell_positions, cell_sequences, query_positions, own, owned, sequence, has_window, window,
                        workspace, ck_attention_prefill_workspace(heads, kv_heads, dk, dv) / 2,
                        per_item, (queries + per_item - 1) / per_item, 0, out };
    atomic_init(&job.next_item, 0);
    const long work = (long)queries * (own ? owned : cells) * heads * (dk + dv);
    const long items = (long)kv_heads * job.items_per_head;
    ck_parallel_rows(prefill_workers, &job, 2, 1, work >= (1L << 17) && items > 1 ? ck_get_gemv_threads() : 1);
    free(own);
}
