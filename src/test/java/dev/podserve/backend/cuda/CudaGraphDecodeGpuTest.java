package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;

/**
 * Decode steps replayed from CUDA graphs against the same steps launched one kernel at a time: the
 * same greedy tokens and logits within rounding (the GEMMs of a padded bucket may take another
 * cuBLAS algorithm), across batch sizes that need padding, contexts that cross the split rule's
 * thresholds between steps, and requests finishing so the batch shrinks into smaller buckets.
 */
@Tag("gpu")
class CudaGraphDecodeGpuTest {

    /** Llama-3 attention shapes scaled down: GQA 4, head dim 128. */
    private static final ModelConfig LLAMA = new ModelConfig("LlamaForCausalLM", 1000, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    @ParameterizedTest(name = "{0} requests")
    @ValueSource(ints = {1, 5, 17})
    void graphStepsMatchEagerSteps(int requests) {
        run(LLAMA, requests);
    }

    /** Mistral-style: every layer windowed at 300 keys, so splits before the window are skipped inside the graph. */
    @ParameterizedTest(name = "{0} requests, window 300")
    @ValueSource(ints = {3})
    void graphStepsMatchEagerStepsUnderASlidingWindow(int requests) {
        run(LLAMA.withSlidingWindow(300), requests);
    }

    /**
     * podserve.attention.skinny-gemm-rows: every projection of this model is under the kernel's
     * weight cap, so steps of up to 16 rows run q/k/v, o, gate_up with its SiLU, down and the LM head
     * (fp32 out) on it, launched with programmatic dependent launch, in graphs and eagerly; 17
     * requests mix those steps with cuBLAS ones. Against the same model on cuBLAS alone.
     */
    @ParameterizedTest(name = "{0} requests, CUDA graphs {1}")
    @CsvSource({"1, true", "5, true", "17, true", "5, false"})
    void skinnyGemmStepsMatchCublasSteps(int requests, boolean graphs) {
        Gpu.require();
        Random rnd = new Random(100 + requests);
        int[][] prompts = new int[requests][];
        for (int r = 0; r < requests; r++) {
            prompts[r] = new int[1 + rnd.nextInt(700)];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(LLAMA.vocabSize());
        }
        int pageSize = 16;
        int newTokens = 9;
        int pages = requests * ((700 + newTokens) / pageSize + 2);
        CudaOptions cublas = new CudaOptions(4608, 24, pageSize, pages, 0, 0, graphs).withSkinnyGemmRows(0);
        try (CudaBackend reference = CudaBackend.withDummyWeights(LLAMA, 5, cublas);
             CudaBackend skinny = CudaBackend.withDummyWeights(LLAMA, 5, cublas.withSkinnyGemmRows(16))) {
            int rows = compareInLockstep(reference, skinny, prompts, newTokens, 256, pageSize, 23, 0.02, "skinny");
            assertEquals(requests * newTokens, rows, "sampled rows");
        }
    }

    /**
     * Runs prompts through a reference and a candidate backend in lockstep and checks every sampled
     * row: candidate logits finite and within {@code maxRelative} of the largest reference logit,
     * greedy tokens equal except where the reference's top two nearly tie (bf16 rounding may flip
     * those). Returns the rows checked.
     */
    private static int compareInLockstep(ComputeBackend reference, ComputeBackend candidate, int[][] prompts, int newTokens,
                                         int chunk, int pageSize, long seed, double maxRelative, String what) {
        double[] worst = new double[1];
        int[] rows = new int[1];
        LockstepDriver.run(List.of(reference, candidate), prompts, newTokens, chunk, pageSize, seed, (r, s, logits) -> {
            double scale = 0;
            double diff = 0;
            for (int v = 0; v < logits[0].length; v++) {
                assertTrue(Float.isFinite(logits[1][v]), what + " logit " + v + " of request " + r + " is " + logits[1][v]);
                scale = Math.max(scale, Math.abs(logits[0][v]));
                diff = Math.max(diff, Math.abs(logits[0][v] - logits[1][v]));
            }
            worst[0] = Math.max(worst[0], diff / scale);
            int e = argmax(logits[0]);
            int g = argmax(logits[1]);
            if (e != g) {
                assertTrue(logits[0][e] - logits[0][g] < 0.1, "request " + r + " step " + s + ": " + what + " token " + g
                        + ", reference token " + e + " (gap " + (logits[0][e] - logits[0][g]) + ")");
            }
            rows[0]++;
            return e;
        });
        assertTrue(worst[0] < maxRelative, what + ": largest logit difference is " + worst[0] + " of the largest logit");
        return rows[0];
    }

    private static void run(ModelConfig cfg, int requests) {
        Gpu.require();
        Random rnd = new Random(requests);
        int[] lengths = {1, 7, 127, 128, 129, 1000, 2500, 300, 64, 2, 900, 33, 4000, 16, 17, 250, 511};
        int[][] prompts = new int[requests][];
        for (int r = 0; r < requests; r++) {
            prompts[r] = new int[lengths[r % lengths.length]];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(cfg.vocabSize());
        }
        int pageSize = 16;
        int newTokens = 9;
        int maxLen = 4000 + newTokens;
        int pages = requests * ((maxLen + pageSize - 1) / pageSize + 1);
        try (CudaBackend eager = CudaBackend.withDummyWeights(cfg, 3, new CudaOptions(4608, 24, pageSize, pages, 0, 0, false));
             CudaBackend graphs = CudaBackend.withDummyWeights(cfg, 3, new CudaOptions(4608, 24, pageSize, pages, 0, 0, true))) {
            int rows = compareInLockstep(eager, graphs, prompts, newTokens, 256, pageSize, 17, 0.02, "graph");
            assertEquals(requests * newTokens, rows, "sampled rows");
            assertTrue(graphs.capturedGraphs() >= 1, "no decode step ran as a graph");
            assertEquals(0, eager.capturedGraphs());
        }
    }

    /**
     * forwardForSampling: the device argmax equals the host argmax of the same step's logits, the
     * rows asked for are those logits exactly, the others are not copied, and a withheld row fetched
     * after the step (StepOutput.row, as the engine does for a banned argmax) is that row exactly;
     * eager (prefill) and graph (decode) steps alike.
     */
    @org.junit.jupiter.api.Test
    void deviceArgmaxEqualsTheHostArgmaxOfTheSameLogits() {
        Gpu.require();
        int pageSize = 16;
        int requests = 6;
        int[][] prompts = new int[requests][];
        Random rnd = new Random(8);
        for (int r = 0; r < requests; r++) {
            prompts[r] = new int[1 + rnd.nextInt(600)];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(LLAMA.vocabSize());
        }
        int pages = requests * (620 / pageSize + 2);
        CudaOptions o = new CudaOptions(4096, 8, pageSize, pages, 0, 0, true);
        int[] checked = new int[3];
        try (CudaBackend host = CudaBackend.withDummyWeights(LLAMA, 4, o);
             CudaBackend device = CudaBackend.withDummyWeights(LLAMA, 4, o)) {
            ComputeBackend sampling = new CheckingBackend(device) {
                // Presents device's forwardForSampling as forward() to the driver, checking it on the way.
                @Override
                public float[][] forward(dev.podserve.attention.HybridBatch b) {
                    int S = b.sampleRequests().length;
                    boolean[] need = new boolean[S];
                    for (int s = 0; s < S; s++) need[s] = (s + checked[0]) % 2 == 0;
                    StepOutput out = device.forwardForSampling(b, need);
                    float[][] rows = new float[S][];
                    for (int s = 0; s < S; s++) {
                        if (need[s]) {
                            rows[s] = out.logits()[s].clone();
                        } else {
                            assertTrue(out.logits()[s] == null, "row " + s + " was copied though not asked for");
                            if (s % 3 == 1) {
                                rows[s] = out.row(s).clone();
                                checked[2]++;
                            }
                        }
                    }
                    lastArgmax = out.argmax().clone();
                    checked[1] += S;
                    return rows;
                }
            };
            List<ComputeBackend> both = List.of(host, sampling);
            LockstepDriver.run(both, prompts, 6, 256, pageSize, 3, (r, s, logits) -> {
                int want = argmax(logits[0]);
                int row = LockstepDriver.currentSampledRow();
                assertEquals(want, lastArgmax[row], "request " + r + " step " + s + ": device argmax");
                if (logits[1] != null) {
                    assertTrue(java.util.Arrays.equals(logits[0], logits[1]), "request " + r + " step " + s + ": copied row");
                }
                checked[0]++;
                return want;
            });
            assertTrue(device.capturedGraphs() >= 1, "no decode step ran as a graph");
        }
        assertEquals(requests * 6, checked[0], "sampled rows");
        assertTrue(checked[2] > 0, "no withheld row was fetched after its step");
    }

    private static int[] lastArgmax;

    /**
     * pod mode against serial on long contexts (split prefill and decode, merges after the fused
     * kernel) for every SM policy and both co-residence shapes (2 and 4 CTAs per SM, 0 = auto): the
     * fused kernel runs the plan with limited prefill splits, so logits match within rounding and
     * greedy tokens agree except at near ties; plus a windowed model, whose layers fall back to the
     * standalone kernels on the pod plan.
     */
    @ParameterizedTest(name = "policy {0}, CTAs/SM {1}")
    @CsvSource({"0, 2", "3, 0", "1, 2", "2, 2", "0, 4", "1, 4", "2, 4"})
    void podModeMatchesSerialMode(int policy, int ctasPerSm) {
        for (ModelConfig cfg : new ModelConfig[] {LLAMA, LLAMA.withSlidingWindow(300)}) {
            Gpu.require();
            int pageSize = 16;
            int requests = 7;
            Random rnd = new Random(31 + policy);
            int[][] prompts = new int[requests][];
            for (int r = 0; r < requests; r++) {
                prompts[r] = new int[1 + rnd.nextInt(r % 2 == 0 ? 3000 : 200)];
                for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(cfg.vocabSize());
            }
            int pages = requests * (3010 / pageSize + 2);
            CudaOptions o = new CudaOptions(4096, 16, pageSize, pages, 0, 0, true);
            try (CudaBackend serial = CudaBackend.withDummyWeights(cfg, 12, o);
                 CudaBackend pod = CudaBackend.withDummyWeights(cfg, 12,
                         o.withAttentionMode(dev.podserve.attention.AttentionMode.POD).withPodPolicy(policy, 0)
                                 .withPodCtasPerSm(ctasPerSm))) {
                int rows = compareInLockstep(serial, pod, prompts, 5, 256, pageSize, 13, 0.02, "pod");
                assertEquals(requests * 5, rows, "sampled rows");
            }
        }
    }

    /**
     * The fused kernel at 4 CTAs per SM cuts prefill work into 64-row items, twice as many as the
     * 128-row items the step inputs were once sized for: a chunk that fills the budget beside
     * decodes (here 1,900 tokens x 4 heads per KV head = 119 items, against 81 then) failed the
     * step. Now it runs, and matches serial.
     */
    @org.junit.jupiter.api.Test
    void podAtFourCtasPerSmTakesAChunkThatFillsTheBudget() {
        Gpu.require();
        int pageSize = 16;
        Random rnd = new Random(44);
        int[][] prompts = new int[7][];
        for (int r = 0; r < prompts.length; r++) {
            prompts[r] = new int[r == prompts.length - 1 ? 4000 : 10 + r];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(LLAMA.vocabSize());
        }
        int pages = prompts.length * (4010 / pageSize + 2);
        CudaOptions o = new CudaOptions(2048, 16, pageSize, pages, 0, 0, false);
        try (CudaBackend serial = CudaBackend.withDummyWeights(LLAMA, 5, o);
             CudaBackend pod = CudaBackend.withDummyWeights(LLAMA, 5,
                     o.withAttentionMode(dev.podserve.attention.AttentionMode.POD).withPodPolicy(0, 0).withPodCtasPerSm(4))) {
            int rows = compareInLockstep(serial, pod, prompts, 3, 1900, pageSize, 17, 0.02, "pod at 4 CTAs/SM");
            assertEquals(prompts.length * 3, rows, "sampled rows");
        }
    }

    /**
     * streams mode (decode attention on a second stream beside the prefill) against serial: hybrid
     * steps of prefill chunks and decodes give bit-identical logits, since the kernels and their
     * inputs are the same and only the order of independent launches changes.
     */
    @org.junit.jupiter.api.Test
    void streamsModeEqualsSerialModeBitForBit() {
        Gpu.require();
        int pageSize = 16;
        int requests = 9;
        Random rnd = new Random(21);
        int[][] prompts = new int[requests][];
        for (int r = 0; r < requests; r++) {
            prompts[r] = new int[1 + rnd.nextInt(r % 3 == 0 ? 3000 : 300)];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(LLAMA.vocabSize());
        }
        int pages = requests * (3010 / pageSize + 2);
        CudaOptions o = new CudaOptions(4096, 16, pageSize, pages, 0, 0, true);
        int[] rows = new int[1];
        try (CudaBackend serial = CudaBackend.withDummyWeights(LLAMA, 6, o);
             CudaBackend streams = CudaBackend.withDummyWeights(LLAMA, 6,
                     o.withAttentionMode(dev.podserve.attention.AttentionMode.STREAMS))) {
            LockstepDriver.run(List.of(serial, streams), prompts, 5, 200, pageSize, 9, (r, s, logits) -> {
                assertTrue(java.util.Arrays.equals(logits[0], logits[1]), "request " + r + " step " + s + ": streams logits differ");
                rows[0]++;
                return argmax(logits[0]);
            });
        }
        assertEquals(requests * 5, rows[0], "sampled rows");
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }
}
