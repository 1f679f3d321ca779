package dev.podserve.sampling;

import static dev.podserve.sampling.Reference.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogprobsTest {

    private final Sampler sampler = new Sampler();

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 257, 128256})
    void chosenAndTopLogprobsAreLogSoftmaxOfTheProcessedRow(int vocab) {
        float[] logits = Reference.gaussianLogits(vocab, 4, 31 + vocab);
        SamplingParams p = SamplingParams.builder().temperature(0.7).topP(0.95).seed(2L).logprobs(20).build();
        SamplingState s = state(p, vocab);
        double[] expected = Reference.logSoftmax(Reference.toDouble(logits));
        List<Integer> ranking = Reference.ranking(expected);
        for (int step = 0; step < 5; step++) {
            SampleResult r = sampler.sample(logits, s);
            assertThat(r.logprob()).isCloseTo((float) expected[r.token()], within(1e-5f));
            int n = Math.min(20, vocab);
            assertThat(r.topTokens()).hasSize(n);
            assertThat(r.topLogprobs()).hasSize(n);
            for (int j = 0; j < n; j++) {
                assertThat(r.topTokens()[j]).isEqualTo(ranking.get(j));
                assertThat(r.topLogprobs()[j]).isCloseTo((float) expected[ranking.get(j)], within(1e-5f));
            }
        }
    }

    @Test
    void topListBreaksTiesByIdAndIsSortedDescending() {
        float[] logits = {1, 3, 2, 3, 1, 3, 0};
        SampleResult r = sampler.sample(logits, state(SamplingParams.builder().temperature(0).logprobs(5).build(), 7));
        assertThat(r.topTokens()).containsExactly(1, 3, 5, 2, 0);
        for (int j = 1; j < 5; j++) assertThat(r.topLogprobs()[j]).isLessThanOrEqualTo(r.topLogprobs()[j - 1]);
    }

    @Test
    void noAlternativesUnlessAskedAndChosenLogprobFilledWhereItCanBeRead() {
        float[] logits = {0, Float.NEGATIVE_INFINITY, (float) Math.log(3)};
        // Greedy without logprobs: no softmax at all, the log-probability is left NaN.
        SampleResult none = sampler.sample(logits, state(SamplingParams.builder().temperature(0).build(), 3));
        assertThat(none.topTokens()).isEmpty();
        assertThat(none.topLogprobs()).isEmpty();
        assertThat(none.token()).isEqualTo(2);
        assertThat(none.logprob()).isNaN();
        // Random sampling computes the distribution anyway, so the chosen token's value comes with it.
        SampleResult drawn = sampler.sample(logits, state(SamplingParams.builder().temperature(1).seed(1L).build(), 3));
        assertThat(drawn.logprob()).isCloseTo((float) (drawn.token() == 2 ? Math.log(0.75) : Math.log(0.25)), within(1e-6f));

        SampleResult zero = sampler.sample(logits, state(SamplingParams.builder().temperature(0).logprobs(0).build(), 3));
        assertThat(zero.topTokens()).isEmpty();
        assertThat(zero.logprob()).isCloseTo((float) Math.log(0.75), within(1e-6f));
    }

    @Test
    void logprobsIgnoreTemperatureAndTruncationButSeeBias() {
        float[] logits = Reference.gaussianLogits(257, 2, 77);
        SampleResult cold = sampler.sample(logits, state(SamplingParams.builder().temperature(0).logprobs(8).build(), 257));
        SampleResult hot = sampler.sample(logits, state(SamplingParams.builder()
                .temperature(1.9).topK(2).minP(0.5).seed(1L).logprobs(8).build(), 257));
        assertThat(hot.topTokens()).containsExactly(cold.topTokens());
        assertThat(hot.topLogprobs()).containsExactly(cold.topLogprobs());

        int best = cold.topTokens()[0];
        SampleResult biased = sampler.sample(logits, state(SamplingParams.builder()
                .temperature(0).logprobs(8).logitBias(Map.of(best, -100.0)).build(), 257));
        assertThat(biased.topTokens()).doesNotContain(best);
        float[] shifted = logits.clone();
        shifted[best] -= 100;
        double[] expected = Reference.logSoftmax(Reference.toDouble(shifted));
        assertThat(biased.logprob()).isCloseTo((float) expected[biased.token()], within(1e-5f));
    }
}
