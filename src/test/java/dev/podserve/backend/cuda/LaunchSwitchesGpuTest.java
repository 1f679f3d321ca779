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
 * Two switches change how the kernels of a step are launched, never what they compute, so turning
 * either off must give the very bits of every logit:
 * <ul>
 * <li>{@code podserve.cuda.pdl}: the decode chain's kernels (norms, RoPE with the KV append, decode
 * attention and its merge, SiLU, the row gather, the skinny GEMM) start early under programmatic
 * dependent launch. A kernel that read its predecessor's output before that was complete, or
 * through a cache that missed the write, would show up as a changed logit.</li>
 * <li>{@code podserve.cuda.merge-in-decode}: the decode kernel's last split of a row merges it
 * instead of a merge launch; both run the same merge code, and a ticket miscounted would leave a
 * row unmerged or merged early.</li>
 * </ul>
 * Hybrid steps (prefill chunks beside decodes) in each attention mode, eager and from CUDA graphs.
 */
@Tag("gpu")
class LaunchSwitchesGpuTest {

    /** Llama-3 attention shapes scaled down: GQA 4, head dim 128. */
    private static final ModelConfig LLAMA = new ModelConfig("LlamaForCausalLM", 1000, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    @ParameterizedTest(name = "{0} off: {1} requests, {2}, CUDA graphs {3}, skinny rows {4}")
    @CsvSource({"podserve.cuda.pdl, 1, SERIAL, true, 0", "podserve.cuda.pdl, 9, SERIAL, true, 0", "podserve.cuda.pdl, 9, POD, false, 0",
            "podserve.cuda.pdl, 9, STREAMS, false, 0", "podserve.cuda.pdl, 6, SERIAL, true, 16", "podserve.cuda.pdl, 6, POD, false, 4",
            "podserve.cuda.merge-in-decode, 1, SERIAL, true, 0", "podserve.cuda.merge-in-decode, 9, SERIAL, true, 0",
            "podserve.cuda.merge-in-decode, 9, SERIAL, false, 0", "podserve.cuda.merge-in-decode, 9, STREAMS, false, 0"})
    void switchingOffChangesNoBit(String property, int requests, AttentionMode mode, boolean graphs, int skinnyRows) {
        Gpu.require();
        Random rnd = new Random(700 + requests);
        int[][] prompts = LockstepDriver.randomPrompts(rnd, requests, 900, LLAMA.vocabSize());
        int pageSize = 16;
        int newTokens = 11;
        int pages = requests * ((900 + newTokens) / pageSize + 2);
        CudaOptions options = new CudaOptions(4608, 24, pageSize, pages, 0, 0, graphs).withAttentionMode(mode)
                .withSkinnyGemmRows(skinnyRows);
        String before = System.getProperty(property);
        CudaBackend switchedOff;
        System.setProperty(property, "false");
        try {
            switchedOff = CudaBackend.withDummyWeights(LLAMA, 9, options);
        } finally {
            if (before == null) System.clearProperty(property);
            else System.setProperty(property, before);
        }
        try (CudaBackend reference = switchedOff; CudaBackend candidate = CudaBackend.withDummyWeights(LLAMA, 9, options)) {
            if (property.equals("podserve.cuda.pdl")) {
                assumeTrue(candidate.context().programmaticLaunch(), "this device or driver has no programmatic dependent launch");
                assertTrue(!reference.context().programmaticLaunch(), "the reference launches in order");
            }
            int[] rows = new int[1];
            LockstepDriver.run(List.<ComputeBackend>of(reference, candidate), prompts, newTokens, 256, pageSize, 31, (r, s, logits) -> {
                for (int v = 0; v < logits[0].length; v++) {
                    if (Float.floatToRawIntBits(logits[0][v]) != Float.floatToRawIntBits(logits[1][v])) {
                        throw new AssertionError("request " + r + " step " + s + " logit " + v + ": " + logits[1][v] + " with "
                                + property + " on, " + logits[0][v] + " off");
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
