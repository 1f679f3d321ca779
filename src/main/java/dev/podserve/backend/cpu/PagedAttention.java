package dev.podserve.backend.cpu;

import java.util.Arrays;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.ModelConfig;

/**
 * Causal attention for every query row of a hybrid batch, reading K/V through the batch's page
 * table. Prefill rows and decode rows take the same path: query row t at position p attends to
 * positions 0..p of its own request, whose K/V the backend has already appended this step, or with a
 * sliding window of W tokens to positions max(0, p-W+1)..p only (Mistral; transformers' mask keeps
 * key j for query p when {@code j > p - W}).
 *
 * <p>Work is split into tasks of (request, up to {@value #ROWS_PER_TASK} consecutive query rows,
 * KV head). A task gathers that KV head's keys for the positions its rows can see into a transposed
 * scratch ({@code [headDim][positions]}), so scores vectorise across positions; the gather is shared
 * by the rows and by the query heads of the group (GQA). Softmax is two-pass in fp32: scores, their
 * maximum, then {@code exp(score - max)}, so nothing overflows. Each head's output is a function of
 * its own query and the keys and values it sees only, whatever else the batch holds or wherever the
 * task's gather started, since every score is written from index 0 of the score scratch.
 */
final class PagedAttention {

    /** Query rows per task: enough to amortise the key gather, few enough to keep tasks balanced. */
    static final int ROWS_PER_TASK = 16;

    private final int numKvHeads;
    private final int headDim;
    private final int group;
    private final int kvDim;
    private final int qDim;
    private final int qkvStride;
    private final float scale;

    PagedAttention(ModelConfig cfg) {
        this.numKvHeads = cfg.numKvHeads();
        this.headDim = cfg.headDim();
        this.group = cfg.groupSize();
        this.kvDim = cfg.kvDim();
        this.qDim = cfg.qDim();
        this.qkvStride = cfg.qDim() + 2 * cfg.kvDim();
        this.scale = (float) (1.0 / Math.sqrt(cfg.headDim()));
    }

    /**
     * @param qkv        [T][qDim + 2*kvDim]: per row the RoPE'd query heads first (only they are read)
     * @param keys       [slots][kvDim] of this layer
     * @param values     [slots][kvDim] of this layer
     * @param out        [T][qDim]: per row the attention output of each query head, heads concatenated
     * @param window     tokens a query sees, itself included; 0 for the whole causal context
     */
    void run(HybridBatch b, float[] qkv, float[] keys, float[] values, float[] out, WorkerPool pool, CpuKernels k,
             long minParallelFlops, int window) {
        int R = b.numRequests();
        int[] qo = b.qoIndptr();
        // chunkStart[c] / chunkRequest[c]: first row and request of row chunk c; chunkStart[chunks] = T.
        int chunks = 0;
        for (int r = 0; r < R; r++) chunks += (qo[r + 1] - qo[r] + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        int[] chunkStart = new int[chunks + 1];
        int[] chunkRequest = new int[chunks];
        int c = 0;
        for (int r = 0; r < R; r++) {
            for (int t = qo[r]; t < qo[r + 1]; t += ROWS_PER_TASK) {
                chunkStart[c] = t;
                chunkRequest[c++] = r;
            }
        }
        chunkStart[chunks] = b.numTokens();
        long flops = 0;
        for (int p : b.positions()) flops += 4L * seen(p, window) * qDim;
        int tasks = chunks * numKvHeads;
        WorkerPool.Task body = (worker, i) -> {
            int chunk = i / numKvHeads;
            int r = chunkRequest[chunk];
            int t1 = Math.min(chunkStart[chunk] + ROWS_PER_TASK, qo[r + 1]);
            task(pool.workspace(worker), b, r, chunkStart[chunk], t1, i % numKvHeads, qkv, keys, values, out, k, window);
        };
        if (flops < minParallelFlops) {
            for (int i = 0; i < tasks; i++) body.run(0, i);
        } else {
            pool.forEach(tasks, body);
        }
    }

    /** Keys a query at position p sees. */
    private static int seen(int p, int window) {
        return window > 0 ? Math.min(p + 1, window) : p + 1;
    }

    /**
     * Query rows t0..t1-1 (one request, ascending positions) against KV head kvh. The gather covers
     * the positions from the first one row t0 sees to the last row's own, the union of what the rows
     * see; each row reads its own stretch of it.
     */
    private void task(Workspace ws, HybridBatch b, int r, int t0, int t1, int kvh, float[] qkv, float[] keys,
                      float[] values, float[] out, CpuKernels k, int window) {
        int first = b.positions()[t0] + 1 - seen(b.positions()[t0], window);
        int n = b.positions()[t1 - 1] + 1 - first;
        int[] kvOff = ws.kvOffsets(n);
        float[] kt = ws.keysT(headDim * n);
        float[] scores = ws.scores(n);
        int pageSize = b.pageSize();
        int[] pages = b.kvPageIndices();
        int firstPage = b.kvIndptr()[r];
        for (int j = 0; j < n; j++) {
            int pos = first + j;
            int slot = pages[firstPage + pos / pageSize] * pageSize + pos % pageSize;
            int off = slot * kvDim + kvh * headDim;
            kvOff[j] = off;
            for (int d = 0; d < headDim; d++) kt[d * n + j] = keys[off + d];
        }
        for (int t = t0; t < t1; t++) {
            int p = b.positions()[t];
            int ctx = seen(p, window);
            int from = p + 1 - ctx - first;
            for (int g = 0; g < group; g++) {
                int h = kvh * group + g;
                k.scores(qkv, t * qkvStride + h * headDim, kt, from, n, ctx, headDim, scale, scores);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < ctx; j++) max = Math.max(max, scores[j]);
                float sum = k.expShiftedSum(scores, ctx, max, ws);
                int oo = t * qDim + h * headDim;
                Arrays.fill(out, oo, oo + headDim, 0f);
                for (int j = 0; j < ctx; j++) k.axpy(scores[j], values, kvOff[from + j], out, oo, headDim);
                k.scale(out, oo, headDim, 1f / sum);
            }
        }
    }
}
