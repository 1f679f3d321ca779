package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * Logits of rows inside prefill chunks ({@code rowLogits}, for prompt log-probabilities) on the GPU
 * against the CPU backend with the same bf16 weights, in groups larger than the sampled-row buffer
 * (8 rows here), over two steps so the second runs on inputs the first's row groups rewrote. A row
 * that was also sampled must equal the step's own logits for it.
 */
@Tag("gpu")
class RowLogitsGpuTest {

    private static final int PAGE = 16;

    @Test
    void promptRowsMatchTheCpuBackendAcrossGroupsAndSteps() {
        Gpu.require();
        ModelConfig cfg = new ModelConfig("LlamaForCausalLM", 1000, 256, 704, 3, 4, 2, 64, 1e-5f, 10000.0, 2048, false, 1,
                new int[] {2});
        ModelWeights w = CudaBackendGpuTest.bf16Rounded(DummyWeights.generate(cfg, 17));
        Random rnd = new Random(23);
        int[] a = rnd.ints(300, 0, cfg.vocabSize()).toArray();
        int[] b = rnd.ints(51, 0, cfg.vocabSize()).toArray();
        int[] pagesA = range(0, 19);
        int[] pagesB = range(30, 34);
        // Step 1: a's first 200 tokens (not sampled) and b's first 50 (sampled). Step 2: a's last 100
        // (sampled) beside b's decode of its 51st token.
        HybridBatch first = batch(new int[][] {Arrays.copyOf(a, 200), Arrays.copyOf(b, 50)}, new int[] {0, 0},
                new int[][] {Arrays.copyOf(pagesA, 13), Arrays.copyOf(pagesB, 4)}, new int[] {1}, 2);
        HybridBatch second = batch(new int[][] {Arrays.copyOfRange(a, 200, 300), new int[] {b[50]}}, new int[] {200, 50},
                new int[][] {pagesA, pagesB}, new int[] {0, 1}, 1);
        try (CpuBackend cpu = new CpuBackend(cfg, w, 64, PAGE, 4);
             CudaBackend gpu = new CudaBackend(cfg, w, new CudaOptions(512, 8, PAGE, 64, 0, 0))) {
            // Copied: the sampled rows are the backend's buffers, which rowLogits reuses.
            float[][] cpuSampled = copy(cpu.forward(first));
            float[][] gpuSampled = copy(gpu.forward(first));
            int[] rows = range(0, 250);
            List<float[]> cpuRows = rowLogits(cpu, rows);
            List<float[]> gpuRows = rowLogits(gpu, rows);
            compare(cpuRows, gpuRows, "step 1");
            // Row 249 is b's last, the step's sampled row.
            assertNear(gpuSampled[0], gpuRows.get(249), 1e-3, "the sampled row fetched again");
            assertNear(cpuSampled[0], gpuSampled[0], 0.05, "step 1 sampled row");

            cpuSampled = cpu.forward(second);
            gpuSampled = gpu.forward(second);
            for (int s = 0; s < 2; s++) assertNear(cpuSampled[s], gpuSampled[s], 0.05, "step 2 sampled row " + s);
            int[] some = {0, 7, 8, 9, 50, 98};
            compare(rowLogits(cpu, some), rowLogits(gpu, some), "step 2");
        }
    }

    /**
     * ps_score_rows against the host's scoring of the very same logits (HostRowScores over this
     * backend's rowLogits): ids and ranks equal, log-probabilities within float rounding, at 20, 1
     * and 0 alternatives. A vocabulary of 1000 scores in groups of 360 rows in the spent gate_up
     * buffer (two groups here), one of 50000 in the 8 sampled rows' buffer (the gate_up buffer
     * holds only 7 of its rows). Every row of the step is scored, as for a chunk in the middle of
     * a prompt, and at 512 that is a whole step of the backend's 512 tokens.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "vocabulary {0}, prompt {1}")
    @org.junit.jupiter.params.provider.CsvSource({"1000, 500", "1000, 512", "50000, 61"})
    void deviceScoringEqualsTheHostsOverTheSameLogits(int vocab, int promptLength) {
        Gpu.require();
        ModelConfig cfg = new ModelConfig("LlamaForCausalLM", vocab, 256, 704, 3, 4, 2, 64, 1e-5f, 10000.0, 2048, false, 1,
                new int[] {2});
        ModelWeights w = CudaBackendGpuTest.bf16Rounded(DummyWeights.generate(cfg, 29));
        Random rnd = new Random(31);
        int[] a = rnd.ints(promptLength, 0, cfg.vocabSize()).toArray();
        HybridBatch step = batch(new int[][] {a}, new int[] {0}, new int[][] {range(0, 40)}, new int[] {0}, 1);
        try (CudaBackend gpu = new CudaBackend(cfg, w, new CudaOptions(512, 8, PAGE, 64, 0, 0))) {
            gpu.forward(step);
            int[] rows = range(0, promptLength);
            int[] targets = new int[rows.length];
            for (int i = 0; i < rows.length; i++) targets[i] = i % 5 == 0 || i + 1 == promptLength ? rnd.nextInt(cfg.vocabSize()) : a[i + 1];
            for (int top : new int[] {20, 1, 0}) {
                ComputeBackend.RowScore[] host = dev.podserve.backend.HostRowScores.score(gpu, rows, targets, top);
                ComputeBackend.RowScore[] device = gpu.scoreRows(rows, targets, top);
                for (int i = 0; i < rows.length; i++) {
                    String what = "top " + top + " row " + i;
                    assertEquals(host[i].rank(), device[i].rank(), what + ": rank");
                    assertEquals(host[i].logprob(), device[i].logprob(), 1e-5 * Math.max(1, Math.abs(host[i].logprob())), what);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(host[i].topTokens(), device[i].topTokens(), what + ": ids");
                    for (int k = 0; k < top; k++) {
                        assertEquals(host[i].topLogprobs()[k], device[i].topLogprobs()[k], 1e-5 * Math.max(1, Math.abs(host[i].topLogprobs()[k])),
                                what + " alternative " + k);
                    }
                }
            }
        }
    }

    private static float[][] copy(float[][] rows) {
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) out[i] = rows[i].clone();
        return out;
    }

    private static List<float[]> rowLogits(ComputeBackend backend, int[] rows) {
        List<float[]> out = new ArrayList<>();
        backend.rowLogits(rows, (from, logits) -> {
            assertEquals(out.size(), from, "groups come in order");
            for (float[] row : logits) out.add(row.clone());
        });
        assertEquals(rows.length, out.size());
        return out;
    }

    private static void compare(List<float[]> cpu, List<float[]> gpu, String what) {
        for (int i = 0; i < cpu.size(); i++) assertNear(cpu.get(i), gpu.get(i), 0.05, what + " row " + i);
    }

    /** Largest difference within {@code tolerance} of the largest logit; the argmax equal where the CPU's is clear. */
    private static void assertNear(float[] want, float[] got, double tolerance, String what) {
        double scale = 0;
        double diff = 0;
        int best = 0;
        for (int v = 0; v < want.length; v++) {
            assertTrue(Float.isFinite(got[v]), what + ": logit " + v + " is " + got[v]);
            scale = Math.max(scale, Math.abs(want[v]));
            diff = Math.max(diff, Math.abs(want[v] - got[v]));
            if (want[v] > want[best]) best = v;
        }
        assertTrue(diff <= tolerance * scale, what + ": largest difference " + diff + " against a largest logit of " + scale);
        double second = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < want.length; v++) if (v != best) second = Math.max(second, want[v]);
        if (want[best] - second > 2 * tolerance * scale) {
            int gotBest = 0;
            for (int v = 1; v < got.length; v++) if (got[v] > got[gotBest]) gotBest = v;
            assertEquals(best, gotBest, what + ": argmax");
        }
    }

    /** One step: request r gets {@code tokens[r]} at positions from {@code starts[r]}, its context in {@code pages[r]}. */
    private static HybridBatch batch(int[][] tokens, int[] starts, int[][] pages, int[] sample, int numPrefill) {
        int r = tokens.length;
        int[] qo = new int[r + 1];
        int[] kv = new int[r + 1];
        int[] last = new int[r];
        List<Integer> ids = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<Integer> pageList = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            for (int t = 0; t < tokens[i].length; t++) {
                ids.add(tokens[i][t]);
                positions.add(starts[i] + t);
            }
            int kvLen = starts[i] + tokens[i].length;
            int used = (kvLen + PAGE - 1) / PAGE;
            for (int p = 0; p < used; p++) pageList.add(pages[i][p]);
            qo[i + 1] = ids.size();
            kv[i + 1] = pageList.size();
            last[i] = kvLen - (used - 1) * PAGE;
        }
        return new HybridBatch(ints(ids), ints(positions), qo, kv, ints(pageList), last, sample, numPrefill, r - numPrefill, PAGE);
    }

    private static int[] range(int from, int to) {
        int[] out = new int[to - from];
        for (int i = 0; i < out.length; i++) out[i] = from + i;
        return out;
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
