package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.global.cudart;

import dev.podserve.attention.HybridBatch;

/**
 * CUDA graphs of the decode-only step, one per batch-size bucket, captured the first time a bucket
 * is used and replayed after that.
 *
 * <p>Why: a decode step of a 32-layer model is about 230 kernel launches and 100 cuBLAS calls of a
 * few microseconds of GPU work each; issued one by one from Java they cost about 5 us of host time
 * apiece, a third of a batch-1 step. A graph issues them all with one call.
 *
 * <p>What a replay may change: only the contents of device memory. Batch sizes are therefore
 * rounded up to a bucket (1, 2, 4, 8, then multiples of 8), padded with dummy requests the caller
 * builds, every index array lives at a fixed address ({@link StepInputs}), and the split-KV rule is
 * read by the attention kernels from device memory (PsAttentionParams.splitPlan).
 */
final class DecodeGraphs implements AutoCloseable {

    private final CudaContext ctx;
    private final int[] buckets;
    private final Map<Integer, CUgraphExec_st> execs = new HashMap<>();

    /** @param maxBatch the largest decode batch a graph must cover */
    DecodeGraphs(CudaContext ctx, int maxBatch) {
        this.ctx = ctx;
        this.buckets = buckets(maxBatch);
    }

    /**
     * {@code b}'s decodes followed by {@code bucket - D} padding requests: token 0 at position 0, one
     * key on {@code scratchPage}, all sampled (their logits are computed and never read).
     */
    static HybridBatch padDecodes(HybridBatch b, int bucket, int scratchPage) {
        int D = b.numDecodeRequests();
        int nnz = b.kvPageIndices().length;
        int[] qo = new int[bucket + 1];
        int[] kvIndptr = java.util.Arrays.copyOf(b.kvIndptr(), bucket + 1);
        int[] pages = java.util.Arrays.copyOf(b.kvPageIndices(), nnz + bucket - D);
        int[] last = java.util.Arrays.copyOf(b.kvLastPageLen(), bucket);
        int[] sample = new int[bucket];
        for (int r = 0; r <= bucket; r++) qo[r] = r;
        for (int r = 0; r < bucket; r++) sample[r] = r;
        for (int r = D; r < bucket; r++) {
            kvIndptr[r + 1] = kvIndptr[r] + 1;
            pages[nnz + r - D] = scratchPage;
            last[r] = 1;
        }
        return new HybridBatch(java.util.Arrays.copyOf(b.tokenIds(), bucket), java.util.Arrays.copyOf(b.positions(), bucket),
                qo, kvIndptr, pages, last, sample, 0, bucket, b.pageSize());
    }

    static int[] buckets(int maxBatch) {
        List<Integer> b = new ArrayList<>();
        for (int s : new int[] {1, 2, 4}) if (s < maxBatch) b.add(s);
        for (int s = 8; s < maxBatch; s += 8) b.add(s);
        b.add(maxBatch);
        return b.stream().mapToInt(Integer::intValue).distinct().toArray();
    }

    /** The smallest bucket holding {@code n} decodes, or -1 past the largest. */
    int bucketFor(int n) {
        for (int b : buckets) if (b >= n) return b;
        return -1;
    }

    int captured() {
        return execs.size();
    }

    /**
     * Replays the bucket's graph on the context's stream, capturing it from {@code enqueue} first if
     * this is the bucket's first step. {@code enqueue} must only put work on the stream (no
     * synchronisation, no copies from pageable memory) and must enqueue the same launches with the
     * same arguments on every call for a bucket.
     */
    void launch(int bucket, Runnable enqueue) {
        CUgraphExec_st exec = execs.get(bucket);
        if (exec == null) {
            exec = capture(enqueue, bucket);
            execs.put(bucket, exec);
        }
        check(cudart.cuGraphLaunch(exec, ctx.stream()), "cuGraphLaunch(decode bucket " + bucket + ")");
    }

    private CUgraphExec_st capture(Runnable enqueue, int bucket) {
        // Thread-local mode: other threads' CUDA calls (tests, another backend) neither join nor break the capture.
        check(cudart.cuStreamBeginCapture(ctx.stream(), cudart.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture(decode bucket " + bucket + ")");
        CUgraph_st graph = new CUgraph_st();
        try {
            enqueue.run();
        } catch (RuntimeException e) {
            // End the capture whatever happened, so the stream is usable again.
            if (cudart.cuStreamEndCapture(ctx.stream(), graph) == cudart.CUDA_SUCCESS && !graph.isNull()) cudart.cuGraphDestroy(graph);
            throw e;
        }
        check(cudart.cuStreamEndCapture(ctx.stream(), graph), "cuStreamEndCapture(decode bucket " + bucket + ")");
        CUgraphExec_st exec = new CUgraphExec_st();
        try {
            check(cudart.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate(decode bucket " + bucket + ")");
        } finally {
            check(cudart.cuGraphDestroy(graph), "cuGraphDestroy");
        }
        return exec;
    }

    @Override
    public void close() {
        for (CUgraphExec_st e : execs.values()) check(cudart.cuGraphExecDestroy(e), "cuGraphExecDestroy");
        execs.clear();
    }
}
