package dev.podserve.scheduler;

import java.util.Objects;

/**
 * One request's share of a step.
 *
 * @param sequence     the sequence; its tokens {@code numComputedTokens() .. + numNewTokens - 1} are computed
 * @param numNewTokens query tokens it gets this step, at least 1
 * @param sample       whether this step reaches its last known token, so its last row's logits give
 *                     the next token
 */
public record ScheduledSequence(Sequence sequence, int numNewTokens, boolean sample) {

    public ScheduledSequence {
        Objects.requireNonNull(sequence, "sequence");
        if (numNewTokens < 1) {
            throw new IllegalArgumentException("a scheduled sequence needs at least 1 new token, got " + numNewTokens);
        }
    }
}
