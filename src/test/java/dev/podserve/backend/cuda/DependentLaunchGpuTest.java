package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.podserve.attention.AttentionMode;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;

/**
 * Programmatic dependent launch changes when kernels start, never what they compute: the decode
 * chain's kernels (norms, RoPE with the KV append, decode attention and its merge, SiLU, the row
 * gather, and the skinny GEMM) started early must give the very bits of the same kernels launched
 * one after the other. A kernel that read its predecessor's output before that was complete, or
 * through a cache that missed the write, would show up as a changed logit. Hybrid steps (prefill
 * chunks beside decodes) in each attention mode, eager and from CUDA graphs.
 */
@Tag("gpu")
class DependentLaunchGpuTest {

    /** Llama-3 attention shapes scaled down: GQA 4, head dim 128. */
    private static final ModelConfig LLAMA = new ModelConfig("LlamaForCausalLM", 1000, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    @ParameterizedTest(name = "{0} requests, {1}, CUDA graphs {2}, skinny rows {3}")
    @CsvSource({"1, SERIAL, true, 0", "9, SERIAL, true, 0", "9, POD, false, 0", "9, STREAMS, false, 0", "6, SERIAL, true, 16",
            "6, POD, false, 4"})
    void earlyStartsGiveTheSameBits(int requests, AttentionMode mode, boolean graphs, int skinnyRows) {
        Gpu.require();
        Random rnd = new Random(700 + requests);
        int[][] prompts = LockstepDriver.randomPrompts(rnd, requests, 900, LLAMA.vocabSize());
        int pageSize = 16;
        int newTokens = 11;
        int pages = requests * ((900 + newTokens) / pageSize + 2);
        CudaOptions options = new CudaOptions(4608, 24, pageSize, pages, 0, 0, graphs).withAttentionMode(mode)
                .withSkinnyGemmRows(skinnyRows);
        String before = System.getProperty("podserve.cuda.pdl");
        CudaBackend ordered;
        System.setProperty("podserve.cuda.pdl", "false");
        try {
            ordered = CudaBackend.withDummyWeights(LLAMA, 9, options);
        } finally {
            if (before == null) System.clearProperty("podserve.cuda.pdl");
            else System.setProperty("podserve.cuda.pdl", before);
        }
        try (CudaBackend reference = ordered; CudaBackend early = CudaBackend.withDummyWeights(LLAMA, 9, options)) {
            assumeTrue(early.context().programmaticLaunch(), "this device or driver has no programmatic dependent launch");
            assertTrue(!reference.context().programmaticLaunch(), "the reference launches in order");
            int[] rows = new int[1];
            LockstepDriver.run(List.<ComputeBackend>of(reference, early), prompts, newTokens, 256, pageSize, 31, (r, s, logits) -> {
                for (int v = 0; v < logits[0].length; v++) {
                    if (Float.floatToRawIntBits(logits[0][v]) != Float.floatToRawIntBits(logits[1][v])) {
                        throw new AssertionError("request " + r + " step " + s + " logit " + v + ": " + logits[1][v]
                                + " started early, " + logits[0][v] + " in order");
                    }
                }
                rows[0]++;
                return argmax(logits[0]);
            });
            assertEquals(requests * newTokens, rows[0], "sampled rows");
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
