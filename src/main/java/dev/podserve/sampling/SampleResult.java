package dev.podserve.sampling;

/**
 * One sampled token.
 *
 * @param token       the chosen token id
 * @param logprob     its log-probability under the processed distribution (see {@link Sampler}); NaN for a
 *                    greedy request that asked for no logprobs (nothing reads it, and it costs a softmax)
 * @param topTokens   the {@code logprobs} most likely token ids, most likely first, ties by lower id;
 *                    empty when the request did not ask for logprobs
 * @param topLogprobs their log-probabilities, parallel to {@code topTokens}. A token that a mask or
 *                    logit bias removed reports {@link Float#NEGATIVE_INFINITY}; the wire layer should
 *                    clamp it (vLLM sends -9999.0) because JSON has no infinity
 */
public record SampleResult(int token, float logprob, int[] topTokens, float[] topLogprobs) {

    private static final int[] NO_TOKENS = new int[0];
    private static final float[] NO_LOGPROBS = new float[0];

    public static SampleResult withoutAlternatives(int token, float logprob) {
        return new SampleResult(token, logprob, NO_TOKENS, NO_LOGPROBS);
    }
}
