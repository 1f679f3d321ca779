package dev.podserve.api.dto;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One token at one prompt position in vLLM's {@code prompt_logprobs}: its log-probability there,
 * its rank in that position's distribution (1 is the likeliest; tokens tied with it share the
 * lower rank) and its text.
 */
public record PromptLogprob(float logprob, int rank, @JsonProperty("decoded_token") String decodedToken) {
}
