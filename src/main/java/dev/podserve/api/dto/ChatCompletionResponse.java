package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A {@code chat.completion} object. */
public record ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    public record Choice(int index, Message message, @JsonInclude(JsonInclude.Include.ALWAYS) ChatLogprobs logprobs,
                         @JsonProperty("finish_reason") String finishReason) {
    }

    public record Message(String role, String content) {
    }
}
