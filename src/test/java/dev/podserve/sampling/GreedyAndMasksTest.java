package dev.podserve.sampling;

import static dev.podserve.sampling.Reference.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GreedyAndMasksTest {

    private final Sampler sampler = new Sampler();

    private static SamplingParams.Builder greedy() {
        return SamplingParams.builder().temperature(0).maxTokens(100);
    }

    @Test
    void argmaxBreaksTiesTowardsTheLowestId() {
        assertThat(Sampler.argmax(new float[] {1, 3, 2, 3})).isEqualTo(1);
        assertThat(Sampler.argmax(new float[] {7})).isZero();
        assertThat(Sampler.argmax(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY})).isZero();
        assertThat(Sampler.argmax(new float[] {Float.NaN, -5, Float.NaN, -4})).isEqualTo(3);
        assertThat(Sampler.argmax(new float[] {-0.0f, 0.0f})).isZero();
        assertThatThrownBy(() -> Sampler.argmax(new float[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 257, 128256})
    void greedyIsArgmaxAtAwkwardSizes(int vocab) {
        float[] logits = Reference.gaussianLogits(vocab, 3, vocab);
        SampleResult r = sampler.sample(logits, state(greedy().build(), vocab));
        int expected = 0;
        for (int i = 1; i < vocab; i++) if (logits[i] > logits[expected]) expected = i;
        assertThat(r.token()).isEqualTo(expected);
        assertThat(Sampler.argmax(logits)).isEqualTo(expected);
    }

    @Test
    void greedyTieGoesToTheLowestId() {
        float[] logits = {0, 2, 1, 2, 2};
        assertThat(sampler.sample(logits, state(greedy().build(), 5)).token()).isEqualTo(1);
    }

    @Test
    void nearZeroTemperatureIsGreedyEvenWithTruncationSet() {
        float[] logits = {0, 2, 1, 3, 2.9f};
        SamplingParams p = greedy().temperature(0.5e-5).topK(3).topP(0.5).seed(1L).build();
        for (int i = 0; i < 50; i++) assertThat(sampler.sample(logits, state(p, 5)).token()).isEqualTo(3);
    }

    @Test
    void callersLogitsAreNeverWritten() {
        float[] logits = Reference.gaussianLogits(257, 2, 9);
        float[] copy = logits.clone();
        SamplingParams p = SamplingParams.builder().temperature(0.8).topK(20).topP(0.9).minP(0.01)
                .repetitionPenalty(1.3).presencePenalty(0.5).frequencyPenalty(0.5).logitBias(Map.of(4, 10.0))
                .minTokens(5).stopTokenIds(List.of(7)).ignoreEos(true).logprobs(5).seed(3L).build();
        SamplingState s = new SamplingState(p, new int[] {1, 2, 3}, new int[] {0}, 257);
        for (int step = 0; step < 10; step++) s.accept(sampler.sample(logits, s).token());
        assertThat(logits).containsExactly(copy);
    }

    @Test
    void logitBiasShiftsTheChoice() {
        float[] logits = {1.0f, 3.0f, 2.5f};
        assertThat(sampler.sample(logits, state(greedy().build(), 3)).token()).isEqualTo(1);
        SamplingParams biased = greedy().logitBias(Map.of(2, 0.6)).build();
        assertThat(sampler.sample(logits, state(biased, 3)).token()).isEqualTo(2);
        SamplingParams justShort = greedy().logitBias(Map.of(2, 0.4)).build();
        assertThat(sampler.sample(logits, state(justShort, 3)).token()).isEqualTo(1);
    }

    @Test
    void minusHundredBiasBansATokenEvenWhenSampling() {
        float[] logits = {5.0f, 0.0f, 0.0f};
        SamplingParams p = SamplingParams.builder().logitBias(Map.of(0, -100.0)).seed(11L).build();
        SamplingState s = state(p, 3);
        for (int i = 0; i < 20_000; i++) assertThat(sampler.sample(logits, s).token()).isNotZero();
        SamplingState unbiased = state(SamplingParams.builder().seed(11L).build(), 3);
        int zeros = 0;
        for (int i = 0; i < 1000; i++) if (sampler.sample(logits, unbiased).token() == 0) zeros++;
        assertThat(zeros).isGreaterThan(900);
    }

    @Test
    void minTokensMasksEosAndStopIdsUntilReached() {
        // EOS (4) is best, the stop id (3) second, token 2 third.
        float[] logits = {0, 1, 2, 3, 4};
        SamplingParams p = greedy().minTokens(2).stopTokenIds(List.of(3)).logprobs(5).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[] {4}, 5);
        for (int step = 0; step < 2; step++) {
            SampleResult r = sampler.sample(logits, s);
            assertThat(r.token()).isEqualTo(2);
            assertThat(r.topTokens()).containsExactly(2, 1, 0, 3, 4);
            assertThat(r.topLogprobs()[3]).isEqualTo(Float.NEGATIVE_INFINITY);
            s.accept(r.token());
        }
        assertThat(sampler.sample(logits, s).token()).isEqualTo(4);
    }

    @Test
    void ignoreEosLeavesEosToTheModelAsVllmDoes() {
        float[] logits = {0, 1, 2, 3, 4};
        SamplingParams p = greedy().ignoreEos(true).stopTokenIds(List.of(3)).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[] {4}, 5);
        for (int step = 0; step < 3; step++) {
            int token = sampler.sample(logits, s).token();
            assertThat(token).isEqualTo(4);
            s.accept(token);
        }
        // min_tokens still holds every way of ending back, ignore_eos or not.
        SamplingParams held = greedy().ignoreEos(true).minTokens(2).stopTokenIds(List.of(3)).build();
        assertThat(sampler.sample(logits, new SamplingState(held, new int[] {0}, new int[] {4}, 5)).token()).isEqualTo(2);
    }

    @Test
    void minTokensMasksEveryEosId() {
        float[] logits = {0, 9, 1, 8, 2};
        SamplingParams p = greedy().minTokens(1).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[] {3, 1}, 5);
        assertThat(sampler.sample(logits, s).token()).isEqualTo(4);
    }

    @Test
    void eosIdsOutsideTheVocabularyAreIgnored() {
        float[] logits = {0, 9, 1};
        SamplingParams p = greedy().minTokens(1).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[] {1, 50_000, -1}, 3);
        assertThat(sampler.sample(logits, s).token()).isEqualTo(2);
    }

    @Test
    void whenMasksLeaveNothingTheMasksYield() {
        SamplingParams p = SamplingParams.builder().minTokens(3).maxTokens(5).logprobs(1).seed(1L).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[] {0}, 1);
        SampleResult r = sampler.sample(new float[] {0.25f}, s);
        assertThat(r.token()).isZero();
        assertThat(r.logprob()).isZero();
        assertThat(r.topTokens()).containsExactly(0);
    }

    @Test
    void rejectsBrokenLogits() {
        SamplingState s = state(greedy().build(), 3);
        assertThatThrownBy(() -> sampler.sample(new float[] {0, Float.NaN, 1}, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token 1");
        assertThatThrownBy(() -> sampler.sample(new float[] {0, Float.POSITIVE_INFINITY, 1}, s))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sampler.sample(new float[4], s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4");
        float[] allMasked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThatThrownBy(() -> sampler.sample(allMasked, s)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void modelMaskedTokensAreNeverSampled() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0, Float.NEGATIVE_INFINITY, 0};
        SamplingParams p = SamplingParams.builder().temperature(2).seed(5L).logprobs(4).build();
        SamplingState s = state(p, 4);
        for (int i = 0; i < 2000; i++) {
            SampleResult r = sampler.sample(logits, s);
            assertThat(r.token()).isIn(1, 3);
            assertThat(r.logprob()).isCloseTo((float) Math.log(0.5), within(1e-6f));
        }
    }

    @Test
    void stateRejectsTokensOutsideTheVocabulary() {
        SamplingState s = state(SamplingParams.builder().build(), 3);
        assertThatThrownBy(() -> s.accept(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.accept(-1)).isInstanceOf(IllegalArgumentException.class);
        s.accept(2);
        assertThat(s.numOutputTokens()).isEqualTo(1);
    }
}
