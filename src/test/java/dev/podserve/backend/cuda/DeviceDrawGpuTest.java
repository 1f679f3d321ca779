package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * Temperature draws made by ps_draw inside forwardForSampling against the host sampler over the same
 * step's logits with the same uniform number: the same token for every row, across temperatures from
 * near-greedy to 1.9, top-k, top-p, min-p, banned ids (EOS and stop ids below min_tokens; ignore_eos
 * bans nothing), rows with and without a draw in one step, rows copied with the step and rows fetched
 * after it, prefill (eager) and decode (graph) steps.
 */
@Tag("gpu")
class DeviceDrawGpuTest {

    /** Llama-3 attention shapes scaled down, with a vocabulary that is not a multiple of the block. */
    private static final ModelConfig CFG = new ModelConfig("LlamaForCausalLM", 1003, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    private static final double[] TEMPERATURES = {0.05, 0.7, 1.0, 1.9, 0.35};
    private static final double[] MIN_PS = {0.0, 0.1, 0.0, 0.02, 0.0};
    private static final double[] TOP_PS = {1.0, 1.0, 0.9, 0.5, 1.0};
    private static final int[] TOP_KS = {0, 0, 0, 50, 7};

    @Test
    void deviceDrawsEqualHostSamplesOverTheSameLogits() {
        Gpu.require();
        int pageSize = 16;
        int requests = 7;
        int newTokens = 8;
        Random rnd = new Random(5);
        int[][] prompts = LockstepDriver.randomPrompts(rnd, requests, 500, CFG.vocabSize());
        int pages = requests * (520 / pageSize + 2);
        Sampler sampler = new Sampler();
        int[] counts = new int[3];  // [drawn and checked, fetched late, rows without a draw]
        try (CudaBackend device = CudaBackend.withDummyWeights(CFG, 6, new CudaOptions(4096, 8, pageSize, pages, 0, 0, true))) {
            assertTrue(device.drawsOnDevice());
            ComputeBackend checking = new CheckingBackend(device) {
                private long stepNo;

                @Override
                public float[][] forward(HybridBatch b) {
                    int S = b.sampleRequests().length;
                    long step = stepNo++;
                    SamplingState[] states = new SamplingState[S];
                    DeviceDraw[] draws = new DeviceDraw[S];
                    boolean[] need = new boolean[S];
                    for (int s = 0; s < S; s++) {
                        int k = (int) ((s + step) % 6);
                        if (k == 5) {  // a plain greedy row beside the draws: no draw, argmax only
                            continue;
                        }
                        SamplingParams p = SamplingParams.builder().temperature(TEMPERATURES[k]).minP(MIN_PS[k])
                                .topP(TOP_PS[k]).topK(TOP_KS[k])
                                .seed(step * 31 + s).ignoreEos(k % 2 == 0).minTokens(k == 1 ? 100 : 0)
                                .stopTokenIds(List.of(7, 8, 9)).maxTokens(200).build();
                        states[s] = new SamplingState(p, new int[0], new int[] {1, 2, 1002}, CFG.vocabSize());
                        draws[s] = Sampler.deviceDraw(states[s]);
                        assertTrue(draws[s] != null, "row " + s + " should be drawn on the device");
                        need[s] = (s + step) % 2 == 0;
                    }
                    StepOutput out = device.forwardForSampling(b, need, draws);
                    float[][] rows = new float[S][];
                    for (int s = 0; s < S; s++) {
                        if (draws[s] == null) {
                            assertEquals(-1, out.drawnToken(s), "row " + s + " had no draw");
                            rows[s] = out.row(s).clone();
                            counts[2]++;
                            continue;
                        }
                        if (need[s]) {
                            rows[s] = out.logits()[s].clone();
                        } else {
                            assertNull(out.logits()[s], "row " + s + " was copied though not asked for");
                            rows[s] = out.row(s).clone();
                            counts[1]++;
                        }
                        int want = sampler.sample(rows[s], states[s], draws[s].uniform()).token();
                        assertEquals(want, out.drawnToken(s), "step " + step + " row " + s + ": drawn token, " + draws[s]);
                        counts[0]++;
                    }
                    return rows;
                }
            };
            LockstepDriver.run(List.of(checking), prompts, newTokens, 256, pageSize, 9, (r, s, logits) -> Sampler.argmax(logits[0]));
            assertTrue(device.capturedGraphs() >= 1, "no decode step ran as a graph");
        }
        assertTrue(counts[0] >= requests * newTokens / 2, "draws checked: " + counts[0]);
        assertTrue(counts[1] > 0 && counts[2] > 0, "late fetches " + counts[1] + ", rows without a draw " + counts[2]);
    }
}
