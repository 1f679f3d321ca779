package dev.podserve.sampling;

import static dev.podserve.sampling.Reference.state;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which tokens survive top-k, top-p and min-p. The draw is an inverse CDF, so sweeping the uniform
 * number over [0, 1) visits every kept token and nothing else.
 */
class TruncationTest {

    /** Probabilities 0.5, 0.3, 0.15, 0.05. */
    private static final float[] FOUR = Reference.logitsOf(0.5, 0.3, 0.15, 0.05);

    private static Set<Integer> reachable(float[] logits, SamplingParams p) {
        int n = logits.length;
        Workspace ws = Workspace.forVocabulary(n);
        Set<Integer> tokens = new TreeSet<>();
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        int steps = 4000;
        for (int i = 0; i <= steps; i++) {
            double u = i == steps ? Math.nextDown(1.0) : (double) i / steps;
            System.arraycopy(logits, 0, ws.logits, 0, n);
            Logprobs.logSumExp(ws.logits, n, max, ws.weights);
            tokens.add(TruncatedDistribution.draw(ws.logits, n, max, p, u, ws));
        }
        return tokens;
    }

    private static SamplingParams.Builder params() {
        return SamplingParams.builder();
    }

    @Test
    void topKKeepsExactlyK() {
        float[] logits = {0.1f, 2, 0.3f, 1, 3, -1, 0.2f};
        assertThat(reachable(logits, params().topK(1).build())).containsExactly(4);
        assertThat(reachable(logits, params().topK(2).build())).containsExactly(1, 4);
        assertThat(reachable(logits, params().topK(3).build())).containsExactly(1, 3, 4);
        assertThat(reachable(logits, params().topK(6).build())).containsExactly(0, 1, 2, 3, 4, 6);
        assertThat(reachable(logits, params().topK(7).build())).hasSize(7);
        assertThat(reachable(logits, params().topK(100).build())).hasSize(7);
    }

    @Test
    void topKKeepsEveryTokenTiedWithTheKth() {
        float[] logits = {1, 5, 1, 5, 1, 5};
        assertThat(reachable(logits, params().topK(1).build())).containsExactly(1, 3, 5);
        assertThat(reachable(logits, params().topK(2).build())).containsExactly(1, 3, 5);
        assertThat(reachable(logits, params().topK(4).build())).containsExactly(0, 1, 2, 3, 4, 5);
        // -0.0 and 0.0 are the same logit.
        assertThat(reachable(new float[] {-0.0f, 0.0f, -1}, params().topK(1).build())).containsExactly(0, 1);
    }

    @Test
    void topKNeverKeepsModelMaskedTokens() {
        float[] logits = {Float.NEGATIVE_INFINITY, 1, Float.NEGATIVE_INFINITY, 0};
        assertThat(reachable(logits, params().topK(3).build())).containsExactly(1, 3);
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        assertThat(reachable(FOUR, params().topP(0.49).build())).containsExactly(0);
        assertThat(reachable(FOUR, params().topP(0.51).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topP(0.79).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topP(0.81).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().topP(0.96).build())).containsExactly(0, 1, 2, 3);
        assertThat(reachable(FOUR, params().topP(1e-9).build())).containsExactly(0);
    }

    @Test
    void topPActsOnTheTemperedDistribution() {
        // At T = 2 the weights are sqrt(p): 0.707, 0.548, 0.387, 0.224 of total 1.866 -> 0.379, 0.293, 0.208, 0.120.
        assertThat(reachable(FOUR, params().temperature(2).topP(0.66).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().temperature(2).topP(0.68).build())).containsExactly(0, 1, 2);
    }

    @Test
    void topPActsOnTheTopKRenormalisedDistribution() {
        // Top-2 leaves 0.5 / 0.8 = 0.625 and 0.375.
        assertThat(reachable(FOUR, params().topK(2).topP(0.6).build())).containsExactly(0);
        assertThat(reachable(FOUR, params().topK(2).topP(0.65).build())).containsExactly(0, 1);
        // Top-3 leaves 0.526, 0.316, 0.158: 0.842 covers 0.83 but not 0.85.
        assertThat(reachable(FOUR, params().topK(3).topP(0.83).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topK(3).topP(0.85).build())).containsExactly(0, 1, 2);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        assertThat(reachable(FOUR, params().minP(0.09).build())).containsExactly(0, 1, 2, 3);
        assertThat(reachable(FOUR, params().minP(0.2).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().minP(0.35).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().minP(1).build())).containsExactly(0);
        // Token 2 sits at 0.3 of the best: just inside at 0.29, just outside at 0.31.
        assertThat(reachable(FOUR, params().minP(0.29).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().minP(0.31).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topK(4).minP(0.29).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().topK(4).minP(0.31).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topP(0.99).minP(0.29).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().topP(0.99).minP(0.31).build())).containsExactly(0, 1);
        // After top-k the best token is unchanged, so the cut is the same.
        assertThat(reachable(FOUR, params().topK(3).minP(0.35).build())).containsExactly(0, 1);
        assertThat(reachable(FOUR, params().topP(0.96).minP(0.2).build())).containsExactly(0, 1, 2);
    }

    @Test
    void minPActsOnTheTemperedDistribution() {
        // At T = 2 the ratios to the best are 1, 0.775, 0.548, 0.316.
        assertThat(reachable(FOUR, params().temperature(2).minP(0.5).build())).containsExactly(0, 1, 2);
        assertThat(reachable(FOUR, params().temperature(2).minP(0.3).build())).containsExactly(0, 1, 2, 3);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 257, 128256})
    void largeAndAwkwardVocabulariesMatchTheReferenceInverseCdf(int vocab) {
        float[] logits = Reference.gaussianLogits(vocab, 3, 1000 + vocab);
        double[] x = Reference.toDouble(logits);
        List<SamplingParams> cases = List.of(
                params().temperature(0.8).topP(0.9).build(),
                params().temperature(1.0).topK(40).build(),
                params().temperature(1.3).topK(200).topP(0.7).minP(0.02).build(),
                params().temperature(0.6).minP(0.1).build(),
                params().temperature(1.0).build());
        List<Integer> ranking = Reference.ranking(x);
        Workspace ws = Workspace.forVocabulary(vocab);
        Random random = new Random(vocab);
        for (SamplingParams p : cases) {
            double[] expected = Reference.distribution(x, p.temperature(), p.topK(), p.topP(), p.minP());
            // The sampler walks best-first only when it had to rank; a top-k covering the whole vocabulary is a no-op.
            boolean ranked = (p.topKEnabled() && p.topK() < vocab) || p.topP() < 1;
            float max = (float) x[ranking.get(0)];
            for (int trial = 0; trial < 200; trial++) {
                double u = trial == 0 ? 0 : trial == 1 ? 1 - 1e-9 : random.nextDouble();
                System.arraycopy(logits, 0, ws.logits, 0, vocab);
                Logprobs.logSumExp(ws.logits, vocab, max, ws.weights);
                int token = TruncatedDistribution.draw(ws.logits, vocab, max, p, u, ws);
                assertThat(token).as("%s u=%s", p, u).isEqualTo(inverseCdf(expected, ranked ? ranking : null, u));
            }
        }
    }

    /** Walks the reference distribution best-first when the sampler ranks, else by id. */
    private static int inverseCdf(double[] probability, List<Integer> ranking, double u) {
        int n = probability.length;
        double cumulative = 0;
        int last = -1;
        for (int j = 0; j < n; j++) {
            int token = ranking == null ? j : ranking.get(j);
            if (probability[token] == 0) continue;
            cumulative += probability[token];
            last = token;
            if (u < cumulative) return token;
        }
        return last;
    }

    @Test
    void sampledTokensStayInsideTheKeptSetThroughTheSampler() {
        Sampler sampler = new Sampler();
        float[] logits = Reference.gaussianLogits(128256, 2, 42);
        SamplingState s = state(params().topK(5).seed(3L).build(), 128256);
        Set<Integer> top5 = new TreeSet<>(Reference.ranking(Reference.toDouble(logits)).subList(0, 5));
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < 300; i++) seen.add(sampler.sample(logits, s).token());
        assertThat(top5).containsAll(seen);
        assertThat(seen.size()).isGreaterThan(1);
    }
}
