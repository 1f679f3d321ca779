package dev.podserve.sampling;

/**
 * A rule on which tokens a request may produce next (a structured output's grammar). The sampler
 * sets every other token's logit to -inf before anything else looks at the row, so greedy picks,
 * draws and reported log-probabilities all see only what the rule allows. One per request; used by
 * one thread at a time.
 */
public interface TokenConstraint {

    /**
     * Sets the bit of every token allowed next in {@code mask} [ceil(vocabSize / 64)] words, token t
     * at bit {@code t % 64} of word {@code t / 64}; clears every other bit.
     */
    void allowedTokens(long[] mask);

    /** Takes the token the request produced; throws if the rule did not allow it. */
    void accept(int token);

    /** Whether the output is complete and no token but the end may follow. */
    boolean complete();

    /**
     * Whether the rule restricts the next token at all. A rule that only binds parts of the output
     * (a tool call inside free text) returns false between them, and no mask is then worked out,
     * uploaded or applied for the step.
     */
    default boolean restrictsNext() {
        return true;
    }
}
