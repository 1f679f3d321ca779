package dev.podserve.backend.cuda;

/**
 * A step's projections (q/k/v, o, gate_up with its SiLU, down, the LM head): cuBLAS, or podserve's
 * skinny GEMM kernel ({@code ps_skinny_gemm}) for steps of at most {@code maxRows} token rows.
 *
 * <p>Why two: a decode step of a few requests multiplies a handful of rows by each weight, so its
 * time is the weight's bytes over DRAM bandwidth. cuBLAS's kernels for that shape reached 48-70% of
 * the H200's copy bandwidth on q/k/v and o_proj and add a split-K reduce launch after o_proj and
 * down (bench/results/decode-step-ncu-h200-2026-11-26.txt); the skinny kernel streams the weight
 * straight into tensor-core fragments, reduces inside the CTA, folds the SiLU-and-mul into the
 * gate_up launch, and starts under programmatic dependent launch before the kernel ahead of it
 * ends. The two agree up to fp32 summation order (tests compare both against fp64).
 *
 * <p>cuBLAS remains the slow-path reference and the fallback for operands the kernel does not take
 * (k or the row stride not a multiple of 8, unaligned buffers). The serving default is cuBLAS alone
 * ({@link CudaOptions#DEFAULT_SKINNY_GEMM_ROWS}): the two sum in different orders, so with
 * the kernel on, a row's result depends on how many rows its step has.
 */
public final class Projections {

    /** params.h: PS_SKINNY_THREADS, PS_SKINNY_MAX_TOKENS and the PS_SKINNY_* flags (StructLayoutTest checks them). */
    public static final int THREADS = 256;
    public static final int MAX_TOKENS = 16;
    public static final int FP32_OUT = 1;
    public static final int ACCUMULATE = 2;
    public static final int SILU_MUL = 4;
    /** PS_SKINNY_TILES and PS_SKINNY_SILU_TILES: 16-row weight tiles per CTA, without and with SILU_MUL. */
    static final int TILES = 1;
    static final int SILU_TILES = 2;
    /** PS_SKINNY_STAGES and PS_SKINNY_SILU_STAGES: 32-element chunks in each warp's shared-memory ring. */
    static final int STAGES = 4;
    static final int SILU_STAGES = 2;

    private final CublasGemm gemm;
    private final LayerKernels layers;
    private final int maxRows;
    private final long maxWeightBytes;
    /**
     * Weights above this stay on cuBLAS. On the H200 its Hopper kernels stream the large ones
     * (Llama-3-8B's gate_up, down, LM head: 117 MB to 1 GB) at 85-100% of the copy bandwidth, where
     * the skinny kernel reached 68-94%. On the small ones (q/k/v, o: 34-50 MB) cuBLAS loses 30-50% to
     * ramp-up, tail and its split-K reduce; there the skinny kernel ran 1.03x as fast as cuBLAS per
     * call on q/k/v at 1 row (0.86x at 8) and 1.04-1.36x on o up to 8 rows, and took 3.0% off a
     * batch-1 decode step (bench/results/skinny-gemm-h200-2026-11-28.txt).
     */
    static final long MAX_WEIGHT_BYTES = 64L << 20;

    /**
     * @param maxRows steps of at most this many token rows take the skinny kernel, 0 to
     *                {@value #MAX_TOKENS}; 0 keeps every projection on cuBLAS
     */
    public Projections(CublasGemm gemm, LayerKernels layers, int maxRows) {
        this(gemm, layers, maxRows, MAX_WEIGHT_BYTES);
    }

    /** With another weight cap: the benchmark times the kernel on every projection. */
    public Projections(CublasGemm gemm, LayerKernels layers, int maxRows, long maxWeightBytes) {
        checkRows(maxRows);
        this.gemm = gemm;
        this.layers = layers;
        this.maxRows = maxRows;
        this.maxWeightBytes = maxWeightBytes;
    }

    /** A row limit the kernel can take: 0 (never) to {@value #MAX_TOKENS}. */
    static void checkRows(int maxRows) {
        if (maxRows < 0 || maxRows > MAX_TOKENS) {
            throw new IllegalArgumentException("skinny GEMM rows must be 0.." + MAX_TOKENS + ", not " + maxRows);
        }
    }

    /** PS_SKINNY_ROWS_PER_CTA: outputs one CTA computes. */
    static int rowsPerCta(boolean siluMul) {
        return 16 * (siluMul ? SILU_TILES : TILES);
    }

    /**
     * PS_SKINNY_SMEM_BYTES: the warps' rings, 16-byte slots [8 warps][stages][2 per weight tile + one
     * per 8 tokens][32 lanes], then the fp32 partial sums [8 warps][weight tiles][16 rows][8 * ceil(T / 8) + 1].
     */
    static int smemBytes(int T, boolean siluMul) {
        int tiles = siluMul ? 2 * SILU_TILES : TILES;
        int tokenTiles = (T + 7) / 8;
        return 8 * (siluMul ? SILU_STAGES : STAGES) * (2 * tiles + tokenTiles) * 32 * 16
                + 8 * tiles * 16 * (8 * tokenTiles + 1) * Float.BYTES;
    }

    /** Whether a T-row product with this weight ([N][K] bf16) and these operands runs on the skinny kernel. */
    boolean skinny(int T, int N, int K, long x, long xStride, long w) {
        return T >= 1 && T <= maxRows && 2L * N * K <= maxWeightBytes && K % 8 == 0 && xStride % 8 == 0 && x % 16 == 0
                && w % 16 == 0;
    }

    /** As {@link CublasGemm#rowMajor}: {@code y[t][n] (+)= sum_k x[t][k] * w[n][k]}. */
    public void rowMajor(int T, int N, int K, long x, int xStride, long w, long y, int yStride, boolean fp32Out,
                         boolean accumulate) {
        if (T == 0) return;
        if (skinny(T, N, K, x, xStride, w)) {
            layers.skinnyGemm(x, xStride, w, y, yStride, T, N, K, (fp32Out ? FP32_OUT : 0) | (accumulate ? ACCUMULATE : 0));
        } else {
            gemm.rowMajor(T, N, K, x, xStride, w, y, yStride, fp32Out, accumulate);
        }
    }

    /**
     * {@code out[t][i] = silu(g) * u} with g, u the bf16 products of x with gate row i and up row i of
     * the fused weight: one skinny launch, or the GEMM into {@code gateUp} and ps_silu_mul.
     *
     * @param x      bf16 [T][xStride], {@code hidden} used per row
     * @param w      bf16 [2 * inter][hidden]: the gate rows, then the up rows
     * @param gateUp bf16 [T][2 * inter], scratch of the two-launch path
     * @param out    bf16 [T][outStride], {@code inter} written per row
     */
    public void gateUpSilu(int T, int inter, int hidden, long x, int xStride, long w, long gateUp, long out, int outStride) {
        if (T == 0) return;
        if (skinny(T, 2 * inter, hidden, x, xStride, w)) {
            layers.skinnyGemm(x, xStride, w, out, outStride, T, inter, hidden, SILU_MUL);
        } else {
            gemm.rowMajor(T, 2 * inter, hidden, x, xStride, w, gateUp, 2 * inter, false, false);
            layers.siluMul(gateUp, 2L * inter, out, outStride, T, inter);
        }
    }

    /** The bias rows before an accumulating projection; see {@link CublasGemm#broadcastRows}. */
    public void broadcastRows(int T, int N, long bias, long ones, long y, int yStride) {
        gemm.broadcastRows(T, N, bias, ones, y, yStride);
    }
}
