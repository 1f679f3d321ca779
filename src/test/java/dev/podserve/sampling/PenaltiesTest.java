package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Each penalty against numbers worked out by hand. The processed logits are read back through the
 * logprobs, which are log_softmax of exactly that processed row.
 */
class PenaltiesTest {

    private static final float[] LOGITS = {1.0f, 2.0f, -1.0f, 0.5f, 3.0f, 0.0f};
    private static final int[] PROMPT = {1, 5};
    /** Output so far: token 2 once, token 3 twice. */
    private static final int[] OUTPUT = {3, 2, 3};

    private final Sampler sampler = new Sampler();

    @Test
    void repetitionPenaltyDividesPositivesAndMultipliesNegativesOverPromptAndOutput() {
        double[] processed = processed(SamplingParams.builder().repetitionPenalty(2.0));
        // seen: prompt {1, 5} and output {2, 3}; 0 and 4 untouched; 0.0 stays 0.0.
        assertProcessed(processed, 1.0, 1.0, -2.0, 0.25, 3.0, 0.0);
    }

    @Test
    void repetitionPenaltyBelowOneFavoursSeenTokens() {
        double[] processed = processed(SamplingParams.builder().repetitionPenalty(0.5));
        assertProcessed(processed, 1.0, 4.0, -0.5, 1.0, 3.0, 0.0);
    }

    @Test
    void frequencyPenaltyScalesWithTheOutputCount() {
        double[] processed = processed(SamplingParams.builder().frequencyPenalty(0.75));
        // token 2: once -> -0.75; token 3: twice -> -1.5; prompt tokens are not output tokens.
        assertProcessed(processed, 1.0, 2.0, -1.75, -1.0, 3.0, 0.0);
    }

    @Test
    void presencePenaltyIsFlatOverOutputTokens() {
        double[] processed = processed(SamplingParams.builder().presencePenalty(-1.25));
        assertProcessed(processed, 1.0, 2.0, 0.25, 1.75, 3.0, 0.0);
    }

    @Test
    void allPenaltiesTogetherInOrder() {
        double[] processed = processed(SamplingParams.builder()
                .repetitionPenalty(1.5).frequencyPenalty(0.5).presencePenalty(0.25));
        // token 1: 2 / 1.5; token 2: -1 * 1.5 - (0.5 + 0.25); token 3: 0.5 / 1.5 - (1.0 + 0.25); token 5: 0 * 1.5
        assertProcessed(processed, 1.0, 4.0 / 3, -2.25, 1.0 / 3 - 1.25, 3.0, 0.0);
    }

    @Test
    void penaltiesChangeTheGreedyChoice() {
        float[] logits = {0, 5.0f, 4.0f};
        SamplingParams p = SamplingParams.builder().temperature(0).frequencyPenalty(0.6).build();
        SamplingState s = new SamplingState(p, new int[] {0}, new int[0], 3);
        int[] picks = new int[4];
        for (int i = 0; i < picks.length; i++) {
            picks[i] = sampler.sample(logits, s).token();
            s.accept(picks[i]);
        }
        // 5 vs 4; then 4.4 vs 4; then 3.8 vs 4 -> 2; then 3.8 vs 3.4 -> 1
        assertThat(picks).containsExactly(1, 1, 2, 1);
    }

    private double[] processed(SamplingParams.Builder b) {
        SamplingParams p = b.temperature(0).logprobs(LOGITS.length).build();
        SamplingState s = new SamplingState(p, PROMPT, new int[0], LOGITS.length);
        for (int t : OUTPUT) s.accept(t);
        SampleResult r = sampler.sample(LOGITS, s);
        double[] logprob = new double[LOGITS.length];
        for (int j = 0; j < r.topTokens().length; j++) logprob[r.topTokens()[j]] = r.topLogprobs()[j];
        return logprob;
    }

    private static void assertProcessed(double[] logprobs, double... expectedLogits) {
        double[] expected = Reference.logSoftmax(expectedLogits);
        for (int i = 0; i < expected.length; i++) {
            assertThat(logprobs[i]).as("token %d", i).isCloseTo(expected[i], within(2e-6));
        }
    }
}
