package dev.podserve.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;

/**
 * The default tiny model with dummy weights must make clear greedy choices, or tests that compare
 * greedy tokens across backends would flip on rounding noise.
 */
class DummyModelLogitsTest {

    @Test
    void greedyWinnersAreWellSeparatedOnTheDefaultTinyModel() {
        ModelConfig cfg = ModelShapes.tiny();
        Random rnd = new Random(77);
        List<Double> gaps = new ArrayList<>();
        for (long seed : new long[] {20250302L, 1L, 99L}) {
            try (CpuBackend backend = new CpuBackend(cfg, DummyWeights.generate(cfg, seed), 64, 16, 2)) {
                PagedRequests pages = new PagedRequests(64, 16, rnd);
                for (int r = 0; r < 20; r++) {
                    int[] prompt = new int[1 + rnd.nextInt(30)];
                    for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(cfg.vocabSize());
                    HybridBatch b = pages.step().prefill(r, prompt, true).build();
                    float[] logits = backend.forward(b)[0];
                    pages.release(r);
                    gaps.add(relativeGap(logits));
                }
            }
        }
        Collections.sort(gaps);
        long wide = gaps.stream().filter(g -> g > 1e-3).count();
        assertThat(wide).as("rows with a top-1/top-2 gap above 1e-3 of the max |logit|, of " + gaps.size() + ": " + gaps)
                .isGreaterThanOrEqualTo((long) (0.9 * gaps.size()));
        assertThat(gaps.get(gaps.size() / 2)).as("median relative gap").isGreaterThan(1e-2);
    }

    @Test
    void logitsAreSpreadNotFlat() {
        ModelConfig cfg = ModelShapes.tiny();
        try (CpuBackend backend = new CpuBackend(cfg, DummyWeights.generate(cfg, 20250302L), 8, 16, 1)) {
            HybridBatch b = new PagedRequests(8, 16, new Random(1)).step().prefill(0, new int[] {72, 101, 108, 108, 111}, true).build();
            float[] logits = backend.forward(b)[0];
            double mean = 0;
            for (float v : logits) mean += v;
            mean /= logits.length;
            double var = 0;
            for (float v : logits) var += (v - mean) * (v - mean);
            assertThat(Math.sqrt(var / logits.length)).as("logit standard deviation").isBetween(1.0, 20.0);
        }
    }

    private static double relativeGap(float[] logits) {
        float top1 = Float.NEGATIVE_INFINITY;
        float top2 = Float.NEGATIVE_INFINITY;
        float maxAbs = 0;
        for (float v : logits) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
            if (v > top1) {
                top2 = top1;
                top1 = v;
            } else if (v > top2) {
                top2 = v;
            }
        }
        return (top1 - top2) / maxAbs;
    }
}
