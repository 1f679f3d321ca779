package dev.podserve.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;

/** The fast paged backend against the plain per-request reference, on fresh random weights and prompts. */
class CpuBackendVsReferenceTest {

    private static final double TOLERANCE = 1e-4;

    @Test
    void everyShapeAndPageSizeMatchesTheReference() {
        long seed = 100;
        for (ModelConfig cfg : TestModels.all()) {
            for (int pageSize : new int[] {1, 16}) {
                check(cfg, pageSize, seed++, new int[] {1, 9, 37}, KernelSelector.best());
            }
        }
    }

    @Test
    void aLongPromptAcrossManyPagesMatchesTheReference() {
        check(ModelShapes.tiny(), 16, 7, new int[] {300, 2}, KernelSelector.best());
    }

    @Test
    void thePlainJavaFallbackMatchesTheReference() {
        check(TestModels.awkward(), 5, 8, new int[] {3, 20}, KernelSelector.scalar());
    }

    @Test
    void qkvBiasesMatchTheReference() {
        check(TestModels.qwen2Like(), 16, 11, new int[] {1, 9, 37}, KernelSelector.best());
        check(TestModels.qwen2Like(), 1, 12, new int[] {20, 3}, KernelSelector.scalar());
    }

    /** Windows shorter than the prompts, so prefill chunks hold rows whose windows start at different places. */
    @Test
    void slidingWindowsMatchTheReference() {
        check(TestModels.mistralLike(7), 16, 13, new int[] {40, 9, 3}, KernelSelector.best());
        check(TestModels.mistralLike(16), 1, 14, new int[] {37, 17}, KernelSelector.best());
        check(TestModels.mistralLike(1), 4, 15, new int[] {12, 5}, KernelSelector.best());
        check(TestModels.biasAndLastLayerWindow(5), 4, 16, new int[] {30, 12}, KernelSelector.scalar());
    }

    /** Every rope type past its original context (positions up to ~300 of 512). */
    @Test
    void everyRopeTypeMatchesTheReference() {
        long seed = 17;
        for (ModelConfig cfg : TestModels.ropeTypes(64)) check(cfg, 16, seed++, new int[] {300, 5}, KernelSelector.best());
    }

    /**
     * Prompts as prefill chunks (the first whole, the others split in two across steps, the second
     * chunk continuing a cached prefix), then greedy decodes, each sampled row compared with the
     * reference run of the same request.
     */
    private static void check(ModelConfig cfg, int pageSize, long seed, int[] promptLengths, CpuKernels kernels) {
        Random rnd = new Random(seed);
        ModelWeights w = DummyWeights.generate(cfg, seed, 2);
        ReferenceForward ref = new ReferenceForward(cfg, w);
        int maxTokens = 0;
        for (int len : promptLengths) maxTokens += len + 8;
        int blocks = maxTokens / pageSize + promptLengths.length + 4;
        try (CpuBackend backend = new CpuBackend(cfg, w, blocks, pageSize, 2, kernels, 0)) {
            PagedRequests pages = new PagedRequests(blocks, pageSize, rnd);
            int n = promptLengths.length;
            int[][] prompts = new int[n][];
            List<ReferenceForward.Sequence> seqs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                prompts[r] = new int[promptLengths[r]];
                for (int i = 0; i < promptLengths[r]; i++) prompts[r][i] = rnd.nextInt(cfg.vocabSize());
                seqs.add(ref.newSequence());
            }
            // Step 1: request 0 whole; the others their first part (a prefix of at least one token).
            PagedRequests.Step s1 = pages.step();
            int[] firstPart = new int[n];
            for (int r = 0; r < n; r++) {
                firstPart[r] = r == 0 ? prompts[r].length : Math.max(1, prompts[r].length / 2);
                s1.prefill(r, Arrays.copyOf(prompts[r], firstPart[r]), true);
            }
            int[] next = compare(cfg, backend, s1, seqs, r -> Arrays.copyOf(prompts[r], firstPart[r]));
            // Step 2: the rest of every split prompt, beside request 0's first decode.
            PagedRequests.Step s2 = pages.step();
            int[] decodeToken = next.clone();
            s2.decode(0, decodeToken[0], true);
            for (int r = 1; r < n; r++) {
                if (firstPart[r] < prompts[r].length) {
                    s2.prefill(r, Arrays.copyOfRange(prompts[r], firstPart[r], prompts[r].length), true);
                } else {
                    s2.decode(r, decodeToken[r], true);
                }
            }
            next = compare(cfg, backend, s2, seqs, r -> r == 0 || firstPart[r] == prompts[r].length
                    ? new int[] {decodeToken[r]} : Arrays.copyOfRange(prompts[r], firstPart[r], prompts[r].length));
            // Then greedy decodes of everyone together.
            for (int step = 0; step < 4; step++) {
                PagedRequests.Step s = pages.step();
                int[] tokens = next.clone();
                for (int r = 0; r < n; r++) s.decode(r, tokens[r], true);
                next = compare(cfg, backend, s, seqs, r -> new int[] {tokens[r]});
            }
        }
    }

    /** Runs the step, feeds the same tokens to the reference, compares, returns each request's greedy token. */
    private static int[] compare(ModelConfig cfg, CpuBackend backend, PagedRequests.Step step,
                                 List<ReferenceForward.Sequence> seqs, IntFunction<int[]> tokensOf) {
        HybridBatch batch = step.build();
        float[][] logits = backend.forward(batch);
        int[] greedy = new int[seqs.size()];
        for (int s = 0; s < logits.length; s++) {
            int r = step.sampled.get(s);
            float[] expected = seqs.get(r).appendAll(tokensOf.apply(r));
            double maxAbs = 0;
            double maxErr = 0;
            for (int v = 0; v < expected.length; v++) {
                maxAbs = Math.max(maxAbs, Math.abs(expected[v]));
                maxErr = Math.max(maxErr, Math.abs(expected[v] - logits[s][v]));
            }
            String where = cfg + " page " + batch.pageSize() + " request " + r + " at length " + seqs.get(r).length()
                    + ": max error " + maxErr + " vs max |logit| " + maxAbs;
            assertTrue(maxErr <= TOLERANCE * maxAbs, where);
            greedy[r] = argmax(logits[s]);
        }
        return greedy;
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }
}
