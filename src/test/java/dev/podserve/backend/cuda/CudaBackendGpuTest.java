package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * The whole model on the GPU against the CPU backend given the very same (bf16-representable)
 * weights: prompts prefilled in chunks beside running decodes, every sampled row's greedy token
 * equal (up to two near-ties, see TIE), and the logits within bf16-activation distance of the
 * fp32 ones.
 */
@Tag("gpu")
class CudaBackendGpuTest {

    static Stream<Arguments> models() {
        ModelConfig llama = new ModelConfig("LlamaForCausalLM", 1000, 256, 704, 3, 4, 2, 64, 1e-5f, 10000.0, 2048, false, 1,
                new int[] {2});
        ModelConfig qwen = new ModelConfig("Qwen2ForCausalLM", 777, 384, 1000, 2, 8, 2, 128, 1e-6f, 1000000.0, 2048, true, 1,
                new int[] {2}).withQkvBias(true);
        ModelConfig gqa8 = new ModelConfig("LlamaForCausalLM", 1500, 512, 1376, 2, 8, 1, 64, 1e-5f, 500000.0, 2048, false, 1,
                new int[] {2});
        return Stream.of(Arguments.of("llama hd64 gqa2", llama, 16), Arguments.of("qwen2 bias hd128 tied", qwen, 1),
                Arguments.of("llama hd64 gqa8", gqa8, 16));
    }

    /** A near-tie: two tokens whose fp32 logits differ by at most this share of the largest logit. */
    private static final double TIE = 0.005;

    @ParameterizedTest(name = "{0}, page {2}")
    @MethodSource("models")
    void greedyTokensEqualTheCpuBackends(String name, ModelConfig cfg, int pageSize) {
        Gpu.require();
        ModelWeights w = bf16Rounded(DummyWeights.generate(cfg, 7));
        int[][] prompts = prompts(cfg.vocabSize(), new int[] {1, 37, 300, 129});
        int newTokens = 12;
        int pages = 4 * ((300 + newTokens) / pageSize + 2);
        List<int[]> cpuTokens = new ArrayList<>();
        List<int[]> gpuTokens = new ArrayList<>();
        List<Double> cpuGaps = new ArrayList<>();  // per row: CPU logit of its token minus of the GPU's, / scale
        double[] worst = new double[1];
        try (CpuBackend cpu = new CpuBackend(cfg, w, pages, pageSize, 4);
             CudaBackend gpu = new CudaBackend(cfg, w, new CudaOptions(512, 8, pageSize, pages, 0, 0))) {
            List<ComputeBackend> both = List.of(cpu, gpu);
            LockstepDriver.run(both, prompts, newTokens, 128, pageSize, 11, (r, s, logits) -> {
                int c = argmax(logits[0]);
                int g = argmax(logits[1]);
                cpuTokens.add(new int[] {r, s, c});
                gpuTokens.add(new int[] {r, s, g});
                double scale = 0;
                double diff = 0;
                for (int v = 0; v < logits[0].length; v++) {
                    scale = Math.max(scale, Math.abs(logits[0][v]));
                    diff = Math.max(diff, Math.abs(logits[0][v] - logits[1][v]));
                    assertTrue(Float.isFinite(logits[1][v]), "GPU logit " + v + " of request " + r + " is " + logits[1][v]);
                }
                worst[0] = Math.max(worst[0], diff / scale);
                cpuGaps.add((logits[0][c] - logits[0][g]) / scale);
                return c;
            });
        }
        assertEquals(4 * newTokens, cpuTokens.size(), "sampled rows");
        // A different greedy token is a near-tie the bf16 activations may break either way, when the
        // fp32 logits of the two tokens are within TIE of the largest logit (seen: 0.09%, llama hd64
        // gqa2, request 0 step 8, after the decode's MMAs were reordered); no more than two of those.
        int ties = 0;
        for (int i = 0; i < cpuTokens.size(); i++) {
            if (cpuTokens.get(i)[2] == gpuTokens.get(i)[2]) continue;
            String row = "request " + cpuTokens.get(i)[0] + " step " + cpuTokens.get(i)[1];
            assertTrue(cpuGaps.get(i) <= TIE, row + ": greedy token " + gpuTokens.get(i)[2] + " instead of "
                    + cpuTokens.get(i)[2] + ", " + cpuGaps.get(i) + " of the largest logit below it");
            ties++;
        }
        assertTrue(ties <= 2, ties + " near-ties broken the other way");
        assertTrue(worst[0] < 0.05, "largest logit difference is " + worst[0] + " of the largest logit");
    }

    /**
     * close() runs once, however often it is called, and a step after it is refused rather than
     * launched on freed device and pinned memory. A backend that cannot be built (more KV blocks
     * than the card holds) gives back what it took: another one builds on the same card after it.
     */
    @org.junit.jupiter.api.Test
    void closeIsIdempotentAndAClosedBackendRefusesSteps() {
        Gpu.require();
        ModelConfig cfg = (ModelConfig) models().findFirst().orElseThrow().get()[1];
        CudaOptions o = new CudaOptions(64, 4, 16, 64, 0, 0);
        CudaBackend gpu = CudaBackend.withDummyWeights(cfg, 3, o);
        int[][] prompts = prompts(cfg.vocabSize(), new int[] {5});
        LockstepDriver.run(List.of(gpu), prompts, 1, 64, 16, 1, (r, s, logits) -> 0);
        gpu.close();
        gpu.close();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> LockstepDriver.run(List.of(gpu), prompts, 1, 64, 16, 1, (r, s, logits) -> 0));
        for (int i = 0; i < 3; i++) {
            org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> CudaBackend.withDummyWeights(cfg, 3, new CudaOptions(64, 4, 16, Integer.MAX_VALUE / 32, 0, 0)));
        }
        try (CudaBackend again = CudaBackend.withDummyWeights(cfg, 3, o)) {
            LockstepDriver.run(List.of(again), prompts, 1, 64, 16, 1, (r, s, logits) -> 0);
        }
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }

    private static int[][] prompts(int vocab, int[] lengths) {
        Random rnd = new Random(5);
        int[][] out = new int[lengths.length][];
        for (int i = 0; i < lengths.length; i++) out[i] = rnd.ints(lengths[i], 0, vocab).toArray();
        return out;
    }

    /** The same weights with every element rounded to bf16, so both backends multiply identical numbers. */
    static ModelWeights bf16Rounded(ModelWeights w) {
        round(w.embed());
        if (w.lmHead() != w.embed()) round(w.lmHead());
        round(w.finalNorm());
        for (LayerWeights l : w.layers()) {
            for (float[] a : new float[][] {l.inputNorm(), l.qkv(), l.wo(), l.postAttnNorm(), l.gateUp(), l.down(), l.qkvBias()}) {
                if (a != null) round(a);
            }
        }
        return w;
    }

    private static void round(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Bf16.round(a[i]);
    }
}
