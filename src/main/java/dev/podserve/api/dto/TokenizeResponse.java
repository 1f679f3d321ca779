package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** vLLM's {@code /tokenize} answer. {@code token_strs} is null unless asked for. */
public record TokenizeResponse(int count, @JsonProperty("max_model_len") int maxModelLen, List<Integer> tokens,
                               @JsonProperty("token_strs") List<String> tokenStrs) {

    /** Counts only: Spring logs encoded bodies at DEBUG, and these spell the users' text. */
    @Override
    public String toString() {
        return "TokenizeResponse[count=" + count + ", max_model_len=" + maxModelLen + "]";
    }
}
