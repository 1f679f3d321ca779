package dev.podserve.api.dto;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Token counts of one response.
 *
 * @param promptTokensDetails how many prompt tokens came from the prefix cache (OpenAI's field); absent
 *                            when the server runs without prefix caching
 */
public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                    @JsonProperty("completion_tokens") int completionTokens,
                    @JsonProperty("total_tokens") int totalTokens,
                    @JsonProperty("prompt_tokens_details") @JsonInclude(JsonInclude.Include.NON_NULL)
                    PromptTokensDetails promptTokensDetails) {

    /** @param cachedTokens prompt tokens whose K/V were found cached rather than computed */
    public record PromptTokensDetails(@JsonProperty("cached_tokens") int cachedTokens) {
    }

    /** @param cached prompt tokens found in the prefix cache, or null to leave the details out */
    public static Usage of(int prompt, int completion, Integer cached) {
        return new Usage(prompt, completion, prompt + completion, cached == null ? null : new PromptTokensDetails(cached));
    }
}
