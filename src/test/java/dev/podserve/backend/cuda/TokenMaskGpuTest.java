package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.DeviceDraw;
import dev.podserve.sampling.Sampler;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.sampling.SamplingState;

/**
 * Structured-output masks applied by ps_token_mask inside forwardForSampling: every masked row comes
 * back with -inf exactly where its mask clears a bit (copied with the step or fetched late), its
 * device argmax is the host's argmax of that row, and its device draw is the host sampler's token
 * over it with the same uniform number; rows without a mask are untouched. Masks of every density
 * (one token, a tenth, nine tenths, all), prefill (eager) and decode (graph) steps, a vocabulary
 * that is not a multiple of 32 or 64.
 */
@Tag("gpu")
class TokenMaskGpuTest {

    private static final ModelConfig CFG = new ModelConfig("LlamaForCausalLM", 1003, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    @Test
    void maskedRowsArgmaxAndDrawsMatchTheHostOverTheMaskedLogits() {
        Gpu.require();
        int pageSize = 16;
        int requests = 7;
        Random rnd = new Random(11);
        int[][] prompts = LockstepDriver.randomPrompts(rnd, requests, 300, CFG.vocabSize());
        int pages = requests * (320 / pageSize + 2);
        int words = (CFG.vocabSize() + 63) / 64;
        Sampler sampler = new Sampler();
        int[] counts = new int[4];  // [masked argmax checked, masked draws checked, unmasked rows, late fetches]
        try (CudaBackend device = CudaBackend.withDummyWeights(CFG, 6, new CudaOptions(4096, 8, pageSize, pages, 0, 0, true))) {
            assertTrue(device.masksOnDevice());
            ComputeBackend checking = new CheckingBackend(device) {
                private long stepNo;

                @Override
                public float[][] forward(HybridBatch b) {
                    int S = b.sampleRequests().length;
                    long step = stepNo++;
                    long[][] masks = new long[S][];
                    DeviceDraw[] draws = new DeviceDraw[S];
                    SamplingState[] states = new SamplingState[S];
                    boolean[] need = new boolean[S];
                    for (int s = 0; s < S; s++) {
                        int k = (int) ((s + step) % 5);
                        if (k < 4) masks[s] = mask(rnd, words, new double[] {0, 0.1, 0.9, 1}[k]);
                        if ((s + step) % 3 == 0) {
                            SamplingParams p = SamplingParams.builder().temperature(0.8).seed(step * 13 + s).maxTokens(100).build();
                            states[s] = new SamplingState(p, new int[0], new int[0], CFG.vocabSize());
                            draws[s] = Sampler.deviceDraw(states[s]);
                        }
                        need[s] = (s + step) % 2 == 0;
                    }
                    StepOutput out = device.forwardForSampling(b, need, draws, () -> masks);
                    float[][] rows = new float[S][];
                    for (int s = 0; s < S; s++) {
                        if (need[s]) {
                            rows[s] = out.logits()[s].clone();
                        } else {
                            rows[s] = out.row(s).clone();
                            counts[3]++;
                        }
                        String where = "step " + step + " row " + s;
                        for (int t = 0; t < CFG.vocabSize(); t++) {
                            boolean allowed = masks[s] == null || (masks[s][t >>> 6] & (1L << t)) != 0;
                            if (allowed) assertTrue(Float.isFinite(rows[s][t]), where + ": allowed token " + t + " is " + rows[s][t]);
                            else assertEquals(Float.NEGATIVE_INFINITY, rows[s][t], where + ": masked token " + t);
                        }
                        if (masks[s] == null) {
                            counts[2]++;
                            continue;
                        }
                        assertEquals(Sampler.argmax(rows[s]), out.argmax()[s], where + ": argmax");
                        counts[0]++;
                        if (draws[s] != null) {
                            int want = sampler.sample(rows[s], states[s], draws[s].uniform()).token();
                            assertEquals(want, out.drawnToken(s), where + ": drawn token");
                            assertTrue((masks[s][want >>> 6] & (1L << want)) != 0, where + ": drew a masked token");
                            counts[1]++;
                        }
                    }
                    return rows;
                }
            };
            LockstepDriver.run(List.of(checking), prompts, 8, 256, pageSize, 9, (r, s, logits) -> Sampler.argmax(logits[0]));
            assertTrue(device.capturedGraphs() >= 1, "no decode step ran as a graph");
        }
        assertTrue(counts[0] > 20 && counts[1] > 5 && counts[2] > 5 && counts[3] > 5, java.util.Arrays.toString(counts));
    }

    /** A random mask with about {@code density} of the tokens allowed; at least one, and for 0 exactly one. */
    private static long[] mask(Random rnd, int words, double density) {
        long[] m = new long[words];
        int vocab = CFG.vocabSize();
        if (density == 0) {
            int t = rnd.nextInt(vocab);
            m[t >>> 6] |= 1L << t;
            return m;
        }
        for (int t = 0; t < vocab; t++) {
            if (density >= 1 || rnd.nextDouble() < density) m[t >>> 6] |= 1L << t;
        }
        // Bits past the vocabulary are set too: the kernel must not read or write beyond it.
        m[words - 1] |= -1L << (vocab & 63);
        return m;
    }
}
