package dev.podserve.engine;

/**
 * The chosen token's log-probability and, when asked for, the most likely alternatives
 * ({@code topTokens[k]} with {@code topLogprobs[k]}, descending).
 *
 * @param rank the token's rank in its row, 1 for the likeliest (tokens tied with it count as
 *             ahead); 0 where not computed (sampled tokens)
 */
public record TokenLogprob(int token, float logprob, int[] topTokens, float[] topLogprobs, int rank) {

    public TokenLogprob(int token, float logprob, int[] topTokens, float[] topLogprobs) {
        this(token, logprob, topTokens, topLogprobs, 0);
    }
}
