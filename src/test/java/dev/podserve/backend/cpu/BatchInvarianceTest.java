package dev.podserve.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;

/**
 * A request's logits must not depend on the rest of its batch, on how its prompt was chunked, or on
 * the thread count: the backend is asserted bit-identical to itself running each request alone,
 * one token per step.
 */
class BatchInvarianceTest {

    /** A request's whole token stream (prompt then the tokens it decodes) and how many are prompt. */
    private record Script(int[] tokens, int promptLength) {
    }

    /** One step of a schedule: for each scheduled request, how many tokens and whether it is sampled. */
    private record Work(int request, int count, boolean decode, boolean sample) {
    }

    @Test
    void mixedBatchesEqualEachRequestAloneBitForBit() {
        long seed = 300;
        for (ModelConfig cfg : TestModels.all()) {
            for (int pageSize : new int[] {1, 16}) {
                checkAgainstSolo(cfg, pageSize, seed++, KernelSelector.best(), 3);
            }
        }
    }

    @Test
    void biasesAndSlidingWindowsKeepItBitForBit() {
        long seed = 600;
        for (ModelConfig cfg : List.of(TestModels.qwen2Like(), TestModels.mistralLike(6), TestModels.biasAndLastLayerWindow(9))) {
            for (int pageSize : new int[] {1, 16}) checkAgainstSolo(cfg, pageSize, seed++, KernelSelector.best(), 3, 9);
        }
        checkAgainstSolo(TestModels.mistralLike(5), 4, seed, KernelSelector.scalar(), 2, 9);
    }

    /** Positions run past the original context of 16, where dynamic NTK's frequencies change with the position. */
    @Test
    void everyRopeTypeKeepsItBitForBit() {
        long seed = 700;
        for (ModelConfig cfg : TestModels.ropeTypes(16)) checkAgainstSolo(cfg, 16, seed++, KernelSelector.best(), 2, 9);
    }

    @Test
    void thePlainJavaFallbackIsBatchInvariantToo() {
        checkAgainstSolo(TestModels.awkward(), 4, 400, KernelSelector.scalar(), 2);
    }

    @Test
    void threadCountDoesNotChangeABit() {
        ModelConfig cfg = ModelShapes.tiny();
        ModelWeights w = DummyWeights.generate(cfg, 500, 2);
        Random rnd = new Random(500);
        List<Script> scripts = scripts(cfg, rnd, 5);
        List<List<Work>> schedule = schedule(scripts, rnd);
        List<float[][]> expected = null;
        for (int threads = 1; threads <= 3; threads++) {
            List<float[][]> got = runBatched(cfg, w, 16, scripts, schedule, KernelSelector.best(), threads, new Random(1));
            if (expected == null) {
                expected = got;
                continue;
            }
            for (int s = 0; s < got.size(); s++) {
                for (int i = 0; i < got.get(s).length; i++) {
                    assertArrayEquals(expected.get(s)[i], got.get(s)[i], 0f, threads + " threads, step " + s + " row " + i);
                }
            }
        }
    }

    private static void checkAgainstSolo(ModelConfig cfg, int pageSize, long seed, CpuKernels kernels, int threads) {
        checkAgainstSolo(cfg, pageSize, seed, kernels, threads, 6);
    }

    private static void checkAgainstSolo(ModelConfig cfg, int pageSize, long seed, CpuKernels kernels, int threads, int requests) {
        ModelWeights w = DummyWeights.generate(cfg, seed, 2);
        Random rnd = new Random(seed);
        List<Script> scripts = scripts(cfg, rnd, requests);
        float[][][] solo = runSolo(cfg, w, pageSize, scripts, kernels);
        List<List<Work>> schedule = schedule(scripts, rnd);
        List<float[][]> batched = runBatched(cfg, w, pageSize, scripts, schedule, kernels, threads, rnd);
        int compared = 0;
        int[] done = new int[scripts.size()];
        for (int s = 0; s < schedule.size(); s++) {
            int row = 0;
            for (Work work : schedule.get(s)) {
                done[work.request] += work.count;
                if (!work.sample) continue;
                float[] got = batched.get(s)[row++];
                float[] want = solo[work.request][done[work.request] - 1];
                String where = cfg + " page " + pageSize + " " + kernels.name() + ": request " + work.request
                        + " position " + (done[work.request] - 1) + " in step " + s;
                assertArrayEquals(want, got, 0f, where);
                assertEquals(CpuBackendVsReferenceTest.argmax(want), CpuBackendVsReferenceTest.argmax(got), where);
                compared++;
            }
        }
        assertTrue(compared > 20, "too few sampled rows compared: " + compared);
    }

    private static List<Script> scripts(ModelConfig cfg, Random rnd, int n) {
        List<Script> scripts = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int prompt = r == 0 ? 1 : 1 + rnd.nextInt(40);
            int[] tokens = new int[prompt + 1 + rnd.nextInt(6)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(cfg.vocabSize());
            scripts.add(new Script(tokens, prompt));
        }
        return scripts;
    }

    /**
     * A random schedule: each step takes a random subset of the unfinished requests; a request still
     * in its prompt gets a chunk of 1..remaining tokens (later chunks continue its cached prefix),
     * one past its prompt gets one decode token. Most rows are sampled, some are not.
     */
    private static List<List<Work>> schedule(List<Script> scripts, Random rnd) {
        int[] done = new int[scripts.size()];
        List<List<Work>> steps = new ArrayList<>();
        while (true) {
            List<Work> step = new ArrayList<>();
            boolean any = false;
            for (int r = 0; r < scripts.size(); r++) {
                Script sc = scripts.get(r);
                if (done[r] == sc.tokens.length) continue;
                any = true;
                if (rnd.nextInt(4) == 0) continue;
                int count;
                boolean decode = done[r] >= sc.promptLength;
                if (decode) {
                    count = 1;
                } else {
                    int remaining = sc.promptLength - done[r];
                    count = switch (rnd.nextInt(3)) {
                        case 0 -> 1;
                        case 1 -> remaining;
                        default -> 1 + rnd.nextInt(remaining);
                    };
                }
                step.add(new Work(r, count, decode, rnd.nextInt(5) != 0));
                done[r] += count;
            }
            if (!any) break;
            if (step.isEmpty()) continue;
            // Batches list prefills first, then decodes; keep the schedule in that order so rows line up.
            List<Work> ordered = new ArrayList<>();
            step.stream().filter(x -> !x.decode).forEach(ordered::add);
            step.stream().filter(x -> x.decode).forEach(ordered::add);
            steps.add(ordered);
        }
        return steps;
    }

    private static List<float[][]> runBatched(ModelConfig cfg, ModelWeights w, int pageSize, List<Script> scripts,
                                              List<List<Work>> schedule, CpuKernels kernels, int threads, Random rnd) {
        int blocks = blocksFor(scripts, pageSize);
        List<float[][]> out = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(cfg, w, blocks, pageSize, threads, kernels, 0)) {
            PagedRequests pages = new PagedRequests(blocks, pageSize, rnd);
            for (List<Work> step : schedule) {
                PagedRequests.Step b = pages.step();
                for (Work work : step) {
                    int from = pages.length(work.request);
                    int[] tokens = Arrays.copyOfRange(scripts.get(work.request).tokens, from, from + work.count);
                    if (work.decode) b.decode(work.request, tokens[0], work.sample);
                    else b.prefill(work.request, tokens, work.sample);
                }
                HybridBatch batch = b.build();
                out.add(backend.forward(batch));
            }
        }
        return out;
    }

    /** [request][position][vocab]: each request fed alone, one token per step, single-threaded. */
    private static float[][][] runSolo(ModelConfig cfg, ModelWeights w, int pageSize, List<Script> scripts, CpuKernels kernels) {
        int blocks = blocksFor(scripts, pageSize);
        float[][][] logits = new float[scripts.size()][][];
        try (CpuBackend backend = new CpuBackend(cfg, w, blocks, pageSize, 1, kernels, CpuMatmul.DEFAULT_MIN_PARALLEL_FLOPS)) {
            PagedRequests pages = new PagedRequests(blocks, pageSize, new Random(7));
            for (int r = 0; r < scripts.size(); r++) {
                int[] tokens = scripts.get(r).tokens;
                logits[r] = new float[tokens.length][];
                for (int p = 0; p < tokens.length; p++) {
                    HybridBatch batch = pages.step().decode(r, tokens[p], true).build();
                    logits[r][p] = backend.forward(batch)[0];
                }
                pages.release(r);
            }
        }
        return logits;
    }

    private static int blocksFor(List<Script> scripts, int pageSize) {
        int blocks = 0;
        for (Script s : scripts) blocks += (s.tokens.length + pageSize - 1) / pageSize;
        return blocks + 2;
    }
}
