package dev.podserve.sampling;

import static dev.podserve.sampling.Reference.state;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

class SeedReproducibilityTest {

    private static final int VOCAB = 257;
    private static final int STEPS = 40;

    private final Sampler sampler = new Sampler();
    /** Flat-ish logits: many tokens are plausible, so two different streams almost surely diverge. */
    private final float[] logits = Reference.gaussianLogits(VOCAB, 0.5, 4);

    private static SamplingParams seeded(Long seed) {
        return SamplingParams.builder().temperature(0.9).topP(0.95).seed(seed).maxTokens(STEPS).build();
    }

    private int[] runAlone(Long seed) {
        SamplingState s = state(seeded(seed), VOCAB);
        int[] out = new int[STEPS];
        for (int i = 0; i < STEPS; i++) {
            out[i] = sampler.sample(logits, s).token();
            s.accept(out[i]);
        }
        return out;
    }

    @Test
    void sameSeedSameSequence() {
        assertThat(runAlone(1234L)).containsExactly(runAlone(1234L));
    }

    @Test
    void differentSeedsDiffer() {
        assertThat(runAlone(1234L)).isNotEqualTo(runAlone(1235L));
        assertThat(runAlone(null)).isNotEqualTo(runAlone(null));
    }

    @Test
    void neighboursAndStepOrderDoNotMatter() {
        int[] alone = runAlone(99L);
        SamplingState mine = state(seeded(99L), VOCAB);
        SamplingState other = state(seeded(7L), VOCAB);
        SamplingState unseeded = state(seeded(null), VOCAB);
        SamplingState bigVocab = state(SamplingParams.builder().topK(50).seed(99L).build(), 128256);
        float[] bigLogits = Reference.gaussianLogits(128256, 1, 5);
        int[] interleaved = new int[STEPS];
        for (int i = 0; i < STEPS; i++) {
            // The neighbours take a varying number of steps between ours, as in a changing batch.
            for (int k = 0; k < i % 3; k++) other.accept(sampler.sample(logits, other).token());
            unseeded.accept(sampler.sample(logits, unseeded).token());
            if (i % 7 == 0) bigVocab.accept(sampler.sample(bigLogits, bigVocab).token());
            interleaved[i] = sampler.sample(logits, mine).token();
            mine.accept(interleaved[i]);
        }
        assertThat(interleaved).containsExactly(alone);
    }

    @Test
    void samplingOnAnotherThreadGivesTheSameSequence() throws Exception {
        int[] here = runAlone(2024L);
        int[] there = CompletableFuture.supplyAsync(() -> runAlone(2024L)).get();
        assertThat(there).containsExactly(here);
    }

    @Test
    void aSampledStepDrawsExactlyOneUniformAndAGreedyStepNone() {
        SamplingParams p = SamplingParams.builder().temperature(0.5).topK(10).topP(0.9).minP(0.01).seed(8L).build();
        SamplingState fresh = state(p, VOCAB);
        double first = fresh.nextUniform();
        double second = fresh.nextUniform();

        SamplingState sampled = state(p, VOCAB);
        sampler.sample(logits, sampled);
        assertThat(sampled.nextUniform()).isEqualTo(second);

        SamplingState greedy = state(p.toBuilder().temperature(0).build(), VOCAB);
        sampler.sample(logits, greedy);
        assertThat(greedy.nextUniform()).isEqualTo(first);
    }
}
