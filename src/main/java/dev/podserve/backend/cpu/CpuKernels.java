package dev.podserve.backend.cpu;

/**
 * The inner loops of the CPU forward pass. Two implementations exist: {@link VectorKernels} (Vector
 * API, used when {@code jdk.incubator.vector} is in the boot layer) and {@link ScalarKernels} (plain
 * Java, the fallback).
 *
 * <p>Determinism contract, which batch invariance rests on: every output element is computed by a
 * fixed sequence of floating-point operations that depends only on that element's inputs and on the
 * lengths involved (K, n), never on how many other rows or tokens are processed in the same call, on
 * how the caller splits the work, or on which thread runs it. Only IEEE lane-wise operations
 * (add, mul, div, fused multiply-add, min/max) are used, which Java defines exactly in every execution
 * tier, so an interpreted and a JIT-compiled call agree bit for bit.
 */
interface CpuKernels {

    /** Short name for {@code describe()}, e.g. "vector 512-bit". */
    String name();

    /** Per-worker scratch sized for this implementation. */
    Workspace newWorkspace();

    /**
     * {@code y[t][n] (+)= sum_k x[t][k] * w[n][k]} for every token t in 0..T-1 and output row n in
     * {@code n0..n1-1}. Layouts: x {@code [T][K]}, w {@code [N][K]}, y {@code [T][N]}, all row-major
     * from offset 0. With {@code accumulate} the finished dot product is added to the existing y.
     */
    void matmulRows(float[] x, int T, int K, float[] w, int N, int n0, int n1, float[] y, boolean accumulate,
                    Workspace ws);

    /**
     * Attention scores of one query head against n key positions held transposed:
     * {@code out[j] = scale * sum_d q[qo+d] * kt[kto + d*stride + j]} for j in 0..n-1, the sum being
     * one fma chain over d in increasing order for every j (positions run across vector lanes, so no
     * lane reduction is needed and the result depends neither on n, kto nor j's lane).
     */
    void scores(float[] q, int qo, float[] kt, int kto, int stride, int n, int headDim, float scale, float[] out);

    /** {@code y[yo+i] = fma(alpha, x[xo+i], y[yo+i])} for i in 0..n-1. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /** {@code y[yo+i] *= s}. */
    void scale(float[] y, int yo, int n, float s);

    /** Replaces {@code s[j]} by {@code exp(s[j] - max)} for j in 0..n-1 and returns their sum. */
    float expShiftedSum(float[] s, int n, float max, Workspace ws);

    /**
     * SwiGLU activation: {@code out[oo+i] = silu(gu[go+i]) * gu[go+inter+i]} for i in 0..inter-1,
     * where {@code gu} holds one token's gate outputs followed by its up outputs.
     */
    void siluMul(float[] gu, int go, int inter, float[] out, int oo);
}
