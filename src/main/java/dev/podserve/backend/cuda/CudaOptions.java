package dev.podserve.backend.cuda;

import dev.podserve.attention.AttentionMode;

/**
 * What a {@link CudaBackend} is built with: its step limits, KV pages, device, CUDA graphs, the
 * hybrid-step attention and the projections' kernel.
 *
 * @param maxBatchTokens largest T of a step (the scheduler's token budget)
 * @param maxSampled     most requests in a step, so also the most sampled rows (the scheduler's max-num-seqs)
 * @param numBlocks      exact KV page count, or 0 to derive it from {@code kvMemoryBytes}
 * @param kvMemoryBytes  bf16 K+V memory of all layers when {@code numBlocks} is 0; capped by free device memory
 * @param podPolicy         {@link PodPlan#PROPORTIONAL}, {@link PodPlan#FIFTY_FIFTY}, {@link PodPlan#STATIC} or {@link PodPlan#AUTO}
 * @param podStaticFraction the static policy's share of SMs for prefill; 0 from the phases' estimates
 * @param podCtasPerSm      the fused kernel's shape, 2 or 4 CTAs per SM, or {@link PodPlan#AUTO_CTAS}
 * @param skinnyGemmRows    on Hopper, steps of at most this many token rows run their projections
 *                          of up to 64 MB on the skinny GEMM kernel ({@link Projections}), 0 to
 *                          {@value Projections#MAX_TOKENS}
 */
public record CudaOptions(int maxBatchTokens, int maxSampled, int pageSize, int numBlocks, long kvMemoryBytes, int device,
                          boolean cudaGraphs, AttentionMode attentionMode, int podPolicy, double podStaticFraction,
                          int podCtasPerSm, int skinnyGemmRows) {
    /**
     * The default of {@code podserve.attention.skinny-gemm-rows}: off. With it on, a greedy
     * request's tokens can depend on how many others share its steps (a small step sums the
     * q/k/v and o products in another order than cuBLAS does for a larger one), which serving
     * should not do unasked for a 3% shorter step at batch 1 (with 4 rows, the setting to use).
     */
    public static final int DEFAULT_SKINNY_GEMM_ROWS = 0;

    public CudaOptions {
        if (skinnyGemmRows < 0 || skinnyGemmRows > Projections.MAX_TOKENS) {
            throw new IllegalArgumentException("skinnyGemmRows must be 0.." + Projections.MAX_TOKENS + ", not " + skinnyGemmRows);
        }
    }

    /** With CUDA graphs for decode-only steps and serial attention for hybrid steps. */
    public CudaOptions(int maxBatchTokens, int maxSampled, int pageSize, int numBlocks, long kvMemoryBytes, int device) {
        this(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, true);
    }

    public CudaOptions(int maxBatchTokens, int maxSampled, int pageSize, int numBlocks, long kvMemoryBytes, int device,
                       boolean cudaGraphs) {
        this(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, AttentionMode.SERIAL,
                PodPlan.AUTO, 0, PodPlan.AUTO_CTAS);
    }

    public CudaOptions(int maxBatchTokens, int maxSampled, int pageSize, int numBlocks, long kvMemoryBytes, int device,
                       boolean cudaGraphs, AttentionMode attentionMode, int podPolicy, double podStaticFraction, int podCtasPerSm) {
        this(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, attentionMode, podPolicy,
                podStaticFraction, podCtasPerSm, DEFAULT_SKINNY_GEMM_ROWS);
    }

    public CudaOptions withAttentionMode(AttentionMode mode) {
        return new CudaOptions(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, mode, podPolicy,
                podStaticFraction, podCtasPerSm, skinnyGemmRows);
    }

    public CudaOptions withPodPolicy(int policy, double staticFraction) {
        return new CudaOptions(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, attentionMode,
                policy, staticFraction, podCtasPerSm, skinnyGemmRows);
    }

    public CudaOptions withPodCtasPerSm(int ctasPerSm) {
        return new CudaOptions(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, attentionMode,
                podPolicy, podStaticFraction, ctasPerSm, skinnyGemmRows);
    }

    public CudaOptions withSkinnyGemmRows(int rows) {
        return new CudaOptions(maxBatchTokens, maxSampled, pageSize, numBlocks, kvMemoryBytes, device, cudaGraphs, attentionMode,
                podPolicy, podStaticFraction, podCtasPerSm, rows);
    }
}
