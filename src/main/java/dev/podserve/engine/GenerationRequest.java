package dev.podserve.engine;

import dev.podserve.sampling.SamplingParams;

/**
 * One sequence to generate. {@code n > 1} in the API becomes several of these.
 *
 * @param promptTokenIds     the prompt, already tokenized (chat template applied)
 * @param skipSpecialTokens  leave special tokens out of the streamed text
 */
public record GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens) {

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params) {
        this(requestId, promptTokenIds, params, true);
    }
}
