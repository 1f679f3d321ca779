package dev.podserve.sampling;

import static dev.podserve.sampling.Reference.state;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Pearson chi-square goodness of fit of 200k seeded draws through the whole sampler against the
 * distribution computed independently in {@link Reference}. The seed is fixed, so the outcome is
 * deterministic; the accept threshold (p > 0.001) is loose enough for an honest sampler, and each
 * test also shows that the same counts reject the distribution an off-by-one (or a forgotten
 * temperature) would give, with p far below 1e-9.
 */
class DistributionFitTest {

    private static final int DRAWS = 200_000;
    private static final double[] LOGITS = {2.0, 1.5, 1.0, 0.7, 0.3, 0.0, -0.5, -1.0};

    private static long[] draw(SamplingParams p) {
        float[] logits = new float[LOGITS.length];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) LOGITS[i];
        Sampler sampler = new Sampler();
        SamplingState s = state(p, logits.length);
        long[] counts = new long[logits.length];
        for (int i = 0; i < DRAWS; i++) counts[sampler.sample(logits, s).token()]++;
        return counts;
    }

    private static double[] expected(double temperature, int topK, double topP, double minP) {
        float[] f = new float[LOGITS.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) LOGITS[i];
        return Reference.distribution(Reference.toDouble(f), temperature, topK, topP, minP);
    }

    private static void assertFits(long[] counts, double[] expected) {
        for (int i = 0; i < counts.length; i++) {
            if (expected[i] == 0) assertThat(counts[i]).as("token %d is outside the kept set", i).isZero();
        }
        assertThat(ChiSquare.pValue(counts, expected)).isGreaterThan(1e-3);
    }

    private static void assertRejects(long[] counts, double[] wrong) {
        double[] smoothed = wrong.clone();
        // Cells the wrong distribution calls impossible must still count against it.
        for (int i = 0; i < smoothed.length; i++) if (smoothed[i] == 0 && counts[i] > 0) smoothed[i] = 1e-12;
        assertThat(ChiSquare.pValue(counts, smoothed)).isLessThan(1e-9);
    }

    @Test
    void temperatureAlone() {
        long[] counts = draw(SamplingParams.builder().temperature(0.7).seed(101L).build());
        assertFits(counts, expected(0.7, 0, 1, 0));
        assertRejects(counts, expected(1.0, 0, 1, 0));
        assertRejects(counts, expected(0.75, 0, 1, 0));
    }

    @Test
    void temperatureOne() {
        long[] counts = draw(SamplingParams.builder().seed(102L).build());
        assertFits(counts, expected(1.0, 0, 1, 0));
        assertRejects(counts, expected(0.9, 0, 1, 0));
    }

    @Test
    void temperatureWithTopP() {
        // At T = 1.3 the nucleus for 0.8 holds five tokens.
        long[] counts = draw(SamplingParams.builder().temperature(1.3).topP(0.8).seed(103L).build());
        double[] expected = expected(1.3, 0, 0.8, 0);
        assertThat(nonZero(expected)).isEqualTo(5);
        assertFits(counts, expected);
        assertRejects(counts, withKept(1.3, 4));
        assertRejects(counts, withKept(1.3, 6));
    }

    @Test
    void topK() {
        long[] counts = draw(SamplingParams.builder().topK(3).seed(104L).build());
        assertFits(counts, expected(1.0, 3, 1, 0));
        assertRejects(counts, expected(1.0, 2, 1, 0));
        assertRejects(counts, expected(1.0, 4, 1, 0));
    }

    @Test
    void topKTopPAndMinPTogether() {
        long[] counts = draw(SamplingParams.builder().temperature(0.9).topK(6).topP(0.95).minP(0.1).seed(105L).build());
        double[] expected = expected(0.9, 6, 0.95, 0.1);
        assertFits(counts, expected);
        assertRejects(counts, withKept(0.9, nonZero(expected) + 1));
        assertRejects(counts, withKept(0.9, nonZero(expected) - 1));
    }

    /** The tempered distribution restricted to its best {@code kept} tokens. */
    private static double[] withKept(double temperature, int kept) {
        return expected(temperature, kept, 1, 0);
    }

    private static int nonZero(double[] p) {
        int n = 0;
        for (double v : p) if (v > 0) n++;
        return n;
    }
}
