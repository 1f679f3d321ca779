package dev.podserve.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * A sliding window really bounds what a token sees: with a window of W in each of L layers, the
 * logits at position p depend on positions p - L*(W-1) .. p only, bit for bit, and on each of those.
 */
class SlidingWindowTest {

    private static final int LENGTH = 40;

    @Test
    void tokensOutOfTheWindowsReachChangeNothingAndTokensInsideDo() {
        ModelConfig cfg = TestModels.mistralLike(6);
        ModelWeights w = DummyWeights.generate(cfg, 21, 2);
        int[] prompt = prompt(cfg, 21);
        int reach = cfg.numLayers() * (cfg.slidingWindow() - 1);
        int last = LENGTH - 1;
        float[] base = lastLogits(cfg, w, prompt);
        float[] refBase = new ReferenceForward(cfg, w).newSequence().appendAll(prompt);
        for (int pos : new int[] {0, 11, last - reach - 1}) {
            int[] changed = changedAt(prompt, pos, cfg);
            assertArrayEquals(base, lastLogits(cfg, w, changed), 0f, "backend: token at " + pos + " is out of reach");
            assertArrayEquals(refBase, new ReferenceForward(cfg, w).newSequence().appendAll(changed), 0f,
                    "reference: token at " + pos + " is out of reach");
        }
        for (int pos : new int[] {last - reach, last - cfg.slidingWindow() + 1, last - 1}) {
            int[] changed = changedAt(prompt, pos, cfg);
            assertFalse(Arrays.equals(base, lastLogits(cfg, w, changed)), "backend: token at " + pos + " is in reach");
            assertFalse(Arrays.equals(refBase, new ReferenceForward(cfg, w).newSequence().appendAll(changed)),
                    "reference: token at " + pos + " is in reach");
        }
    }

    @Test
    void aFullAttentionLayerUnderTheWindowStillCarriesTheWholeContext() {
        ModelConfig cfg = TestModels.biasAndLastLayerWindow(4);
        ModelWeights w = DummyWeights.generate(cfg, 22, 2);
        int[] prompt = prompt(cfg, 22);
        assertFalse(Arrays.equals(lastLogits(cfg, w, prompt), lastLogits(cfg, w, changedAt(prompt, 0, cfg))));
    }

    private static int[] prompt(ModelConfig cfg, long seed) {
        Random rnd = new Random(seed);
        int[] p = new int[LENGTH];
        for (int i = 0; i < p.length; i++) p[i] = rnd.nextInt(cfg.vocabSize());
        return p;
    }

    private static int[] changedAt(int[] prompt, int pos, ModelConfig cfg) {
        int[] c = prompt.clone();
        c[pos] = (c[pos] + 1 + pos) % cfg.vocabSize();
        return c;
    }

    /** The whole prompt as one prefill chunk, through pages of 4. */
    private static float[] lastLogits(ModelConfig cfg, ModelWeights w, int[] prompt) {
        try (CpuBackend backend = new CpuBackend(cfg, w, LENGTH / 4 + 1, 4, 2, KernelSelector.best(), 0)) {
            PagedRequests pages = new PagedRequests(LENGTH / 4 + 1, 4, new Random(3));
            return backend.forward(pages.step().prefill(0, prompt, true).build())[0];
        }
    }
}
