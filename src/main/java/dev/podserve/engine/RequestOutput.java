package dev.podserve.engine;

import java.util.List;

/**
 * What one engine step produced for one request: the text that became final this step (never a
 * broken character, never part of a stop string), the sampled token ids, their log-probabilities
 * when requested, and on the last output the finish reason.
 */
public record RequestOutput(
        String requestId,
        String text,
        int[] tokenIds,
        List<TokenLogprob> logprobs,
        FinishReason finishReason,
        int promptTokens,
        int completionTokens) {

    public boolean finished() {
        return finishReason != null;
    }
}
