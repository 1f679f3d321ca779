package dev.podserve.engine;

import dev.podserve.sampling.SamplingParams;

/**
 * One sequence to generate. {@code n > 1} in the API becomes several of these.
 *
 * @param promptTokenIds     the prompt, already tokenized (chat template applied)
 * @param skipSpecialTokens  leave special tokens out of the streamed text
 * @param deadlines          when it must start and finish; {@link Deadlines#NONE} for no limits
 */
public record GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens,
                                Deadlines deadlines) {

    public GenerationRequest {
        if (deadlines == null) deadlines = Deadlines.NONE;
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens) {
        this(requestId, promptTokenIds, params, skipSpecialTokens, Deadlines.NONE);
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params) {
        this(requestId, promptTokenIds, params, true);
    }

    public GenerationRequest withDeadlines(Deadlines d) {
        return new GenerationRequest(requestId, promptTokenIds, params, skipSpecialTokens, d);
    }
}
