package dev.podserve.engine;

import java.util.List;

/**
 * What one engine step produced for one request: the text that became final this step (never a
 * broken character, never part of a stop string), the sampled token ids, their log-probabilities
 * when requested, and on the last output the finish reason.
 *
 * @param promptLogprobs on the request's first output only, when it asked for prompt
 *                       log-probabilities: entry i scores prompt token i + 1 given the tokens before
 *                       it (the first prompt token has nothing to be scored against); null otherwise
 * @param cachedPromptTokens leading prompt tokens whose K/V the prefix cache held when the request
 *                       was first admitted, so they were not computed for it
 * @param stopReason     on the last output, the stop string or stop token id that ended it; null
 *                       otherwise, and for every other end (see {@link StopReason})
 */
public record RequestOutput(
        String requestId,
        String text,
        int[] tokenIds,
        List<TokenLogprob> logprobs,
        FinishReason finishReason,
        int promptTokens,
        int completionTokens,
        List<TokenLogprob> promptLogprobs,
        int cachedPromptTokens,
        StopReason stopReason) {

    /** An output that carries no prompt log-probabilities, of a prompt computed in full. */
    public RequestOutput(String requestId, String text, int[] tokenIds, List<TokenLogprob> logprobs, FinishReason finishReason,
                         int promptTokens, int completionTokens) {
        this(requestId, text, tokenIds, logprobs, finishReason, promptTokens, completionTokens, null, 0, null);
    }

    /** An output of a prompt computed in full. */
    public RequestOutput(String requestId, String text, int[] tokenIds, List<TokenLogprob> logprobs, FinishReason finishReason,
                         int promptTokens, int completionTokens, List<TokenLogprob> promptLogprobs) {
        this(requestId, text, tokenIds, logprobs, finishReason, promptTokens, completionTokens, promptLogprobs, 0, null);
    }

    public boolean finished() {
        return finishReason != null;
    }
}
