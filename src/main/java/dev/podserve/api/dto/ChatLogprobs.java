package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Chat log-probabilities: per generated token its text, log-probability, UTF-8 bytes and top alternatives. */
public record ChatLogprobs(List<TokenEntry> content) {

    public record TokenEntry(String token, float logprob, List<Integer> bytes,
                             @JsonProperty("top_logprobs") List<Alternative> topLogprobs) {
    }

    public record Alternative(String token, float logprob, List<Integer> bytes) {
    }
}
