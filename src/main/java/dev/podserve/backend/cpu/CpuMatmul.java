package dev.podserve.backend.cpu;

/**
 * {@code y = x · Wᵀ} on the CPU: the linear layer of every projection, split over output rows across
 * a fixed thread pool. Layouts are row-major from offset 0: x {@code [T][K]} (T tokens), W
 * {@code [N][K]} (HuggingFace {@code nn.Linear} weight), y {@code [T][N]}.
 *
 * <p>Each output element is computed by the same operation sequence whatever T, N, the row split
 * and the thread count are (see {@link VectorKernels}), so a token's outputs do not depend on the
 * rest of the batch.
 */
public final class CpuMatmul implements AutoCloseable {

    /** Output rows per parallel task: one cache row block of the vector kernel. */
    private static final int ROWS_PER_TASK = VectorKernels.ROW_BLOCK;
    /** Below this many flops a product runs on the calling thread: handing out work costs more. */
    static final long DEFAULT_MIN_PARALLEL_FLOPS = 1L << 21;

    private final WorkerPool pool;
    private final CpuKernels kernels;
    private final long minParallelFlops;
    private final boolean ownsPool;

    /** Vector kernels when the JVM has {@code jdk.incubator.vector}, plain Java otherwise. */
    public CpuMatmul(int threads) {
        this(KernelSelector.best(), threads);
    }

    /** The plain-Java kernels whatever the JVM offers (to measure or test the fallback). */
    public static CpuMatmul scalarFallback(int threads) {
        return new CpuMatmul(KernelSelector.scalar(), threads);
    }

    private CpuMatmul(CpuKernels kernels, int threads) {
        this(new WorkerPool(threads, kernels), kernels, DEFAULT_MIN_PARALLEL_FLOPS, true);
    }

    CpuMatmul(WorkerPool pool, CpuKernels kernels, long minParallelFlops, boolean ownsPool) {
        this.pool = pool;
        this.kernels = kernels;
        this.minParallelFlops = minParallelFlops;
        this.ownsPool = ownsPool;
    }

    /** {@code y[t][n] = sum_k x[t][k] * w[n][k]}. */
    public void multiply(float[] x, int T, int K, float[] w, int N, float[] y) {
        run(x, T, K, w, N, y, false);
    }

    /** {@code y[t][n] += sum_k x[t][k] * w[n][k]} (the dot product is finished first, then added). */
    public void multiplyAdd(float[] x, int T, int K, float[] w, int N, float[] y) {
        run(x, T, K, w, N, y, true);
    }

    private void run(float[] x, int T, int K, float[] w, int N, float[] y, boolean accumulate) {
        if ((long) T * K > x.length || (long) N * K > w.length || (long) T * N > y.length) {
            throw new IllegalArgumentException("matmul shapes T=" + T + " K=" + K + " N=" + N + " exceed the arrays ("
                    + x.length + ", " + w.length + ", " + y.length + ")");
        }
        if (T == 0 || N == 0) return;
        long flops = 2L * T * K * N;
        int tasks = (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        if (flops < minParallelFlops || pool.threads() == 1 || tasks == 1) {
            kernels.matmulRows(x, T, K, w, N, 0, N, y, accumulate, pool.workspace(0));
            return;
        }
        pool.forEach(tasks, (worker, task) -> {
            int n0 = task * ROWS_PER_TASK;
            kernels.matmulRows(x, T, K, w, N, n0, Math.min(N, n0 + ROWS_PER_TASK), y, accumulate, pool.workspace(worker));
        });
    }

    /** E.g. "vector 512-bit, 2 threads". */
    public String describe() {
        return kernels.name() + ", " + pool.threads() + (pool.threads() == 1 ? " thread" : " threads");
    }

    @Override
    public void close() {
        if (ownsPool) pool.close();
    }
}
