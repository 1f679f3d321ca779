package dev.podserve.api;

import java.util.Arrays;

/**
 * vLLM's {@code truncate_prompt_tokens}: a prompt longer than k tokens keeps only its last k (the
 * chat template already applied, so the end of the conversation and the generation prompt stay).
 * Checked as recent vLLM checks it: k is at least 1, or -1 for "as many as fit"; k may not exceed
 * what the context leaves beside the output asked for.
 */
final class PromptTruncation {

    static final String FIELD = "truncate_prompt_tokens";

    private PromptTruncation() {
    }

    /**
     * The number of prompt tokens to keep at most, or -1 for no truncation.
     *
     * @param k           the request's field; null for none
     * @param maxModelLen the context length served
     * @param room        tokens one request may hold in all (the context, or less where the KV cache is smaller)
     * @param maxTokens   the output length the client set, 0 when it set none: vLLM's check leaves it room
     * @throws ApiException 400 naming {@code truncate_prompt_tokens}
     */
    static int keep(Integer k, int maxModelLen, int room, int maxTokens) {
        if (k == null) return -1;
        if (k == -1) {
            // What fits beside the output, and always room for at least one generated token: a prompt
            // truncated "to fit" must not then be refused as too long.
            return Math.max(1, room - Math.max(1, maxTokens));
        }
        if (k < 1) {
            throw ApiException.badRequest(FIELD, FIELD + " must be at least 1, or -1 to keep as many tokens as fit; got " + k + ".");
        }
        long left = (long) maxModelLen - maxTokens;
        if (k > left) {
            throw ApiException.badRequest(FIELD, FIELD + "=" + k + " cannot be greater than max_model_len - max_tokens = "
                    + maxModelLen + " - " + maxTokens + " = " + left + ". Please request a smaller truncation size.");
        }
        return k;
    }

    /** The last {@code keep} tokens of {@code prompt}; the prompt itself when it is no longer, or keep is -1. */
    static int[] apply(int[] prompt, int keep) {
        if (keep < 0 || prompt.length <= keep) return prompt;
        return Arrays.copyOfRange(prompt, prompt.length - keep, prompt.length);
    }
}
