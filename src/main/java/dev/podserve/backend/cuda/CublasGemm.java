package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.checkBlas;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The projections as cuBLAS GEMMs: bf16 inputs, fp32 accumulation, output bf16 (activations) or
 * fp32 (logits), on the context's stream.
 *
 * <p>Row-major {@code y[T][N] = x[T][K] · W[N][K]^T} is, read column-major (cuBLAS's view of the
 * same bytes), {@code Y(N×T) = Wc(K×N)^T · Xc(K×T)}: so op(A) = T on the weight with lda = K, op(B)
 * = N on the activations with ldb = their row stride, ldc = the output's row stride.
 */
public final class CublasGemm implements AutoCloseable {

    private final cublasContext handle = new cublasContext();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);

    /** Workspace bytes the backend gives cuBLAS (see {@link #CublasGemm(CudaContext, long, long)}). */
    public static final long WORKSPACE_BYTES = 32L << 20;

    public CublasGemm(CudaContext ctx) {
        checkBlas(cublas.cublasCreate_v2(handle), "cublasCreate");
        checkBlas(cublas.cublasSetStream_v2(handle, ctx.stream()), "cublasSetStream");
    }

    /**
     * With a workspace of our own: cuBLAS then never allocates one behind our back, which a CUDA
     * graph capture would forbid, and the GEMMs are the same whether captured or not.
     *
     * @param workspace device address of {@code workspaceBytes} bytes, 256-byte aligned
     */
    public CublasGemm(CudaContext ctx, long workspace, long workspaceBytes) {
        this(ctx);
        checkBlas(cublas.cublasSetWorkspace_v2(handle, new DevicePointer(workspace), workspaceBytes), "cublasSetWorkspace");
    }

    /**
     * {@code y[t][n] (+)= sum_k x[t][k] * w[n][k]} for t &lt; T, n &lt; N.
     *
     * @param x        bf16 [T][xStride], K used per row
     * @param w        bf16 [N][K], rows contiguous
     * @param y        [T][yStride], N written per row; bf16, or fp32 when {@code fp32Out}
     * @param accumulate add to y's current values (one rounding of the fp32 sum) instead of overwriting
     */
    public void rowMajor(int T, int N, int K, long x, int xStride, long w, long y, int yStride, boolean fp32Out,
                         boolean accumulate) {
        if (T == 0) return;
        checkBlas(cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, N, T, K, one,
                new DevicePointer(w), cudart.CUDA_R_16BF, K,
                new DevicePointer(x), cudart.CUDA_R_16BF, xStride,
                accumulate ? one : zero,
                new DevicePointer(y), fp32Out ? cudart.CUDA_R_32F : cudart.CUDA_R_16BF, yStride,
                cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx(T=" + T + ", N=" + N + ", K=" + K + ")");
    }

    /**
     * Writes {@code bias[N]} (bf16) into every row of {@code y[T][yStride]} exactly, as the rank-1
     * product ones[T] · bias^T, so a following {@link #rowMajor} with accumulate adds the projection
     * to it in fp32 and rounds once, as an fp32 matmul-plus-bias then bf16 store would.
     *
     * @param ones bf16 [T] of 1.0
     */
    public void broadcastRows(int T, int N, long bias, long ones, long y, int yStride) {
        if (T == 0) return;
        checkBlas(cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N, N, T, 1, one,
                new DevicePointer(bias), cudart.CUDA_R_16BF, N,
                new DevicePointer(ones), cudart.CUDA_R_16BF, 1,
                zero, new DevicePointer(y), cudart.CUDA_R_16BF, yStride,
                cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx(bias broadcast, T=" + T + ", N=" + N + ")");
    }

    @Override
    public void close() {
        checkBlas(cublas.cublasDestroy_v2(handle), "cublasDestroy");
        one.close();
        zero.close();
    }
}
