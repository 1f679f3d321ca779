package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** vLLM's {@code /tokenize} answer. {@code token_strs} is null unless asked for. */
public record TokenizeResponse(int count, @JsonProperty("max_model_len") int maxModelLen, List<Integer> tokens,
                               @JsonProperty("token_strs") List<String> tokenStrs) {
}
