package dev.podserve.engine;

/**
 * The chosen token's log-probability and, when asked for, the most likely alternatives
 * ({@code topTokens[k]} with {@code topLogprobs[k]}, descending).
 */
public record TokenLogprob(int token, float logprob, int[] topTokens, float[] topLogprobs) {
}
