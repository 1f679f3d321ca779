package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A streamed {@code text_completion} chunk; {@code usage} as in {@link ChatCompletionChunk}. */
public record CompletionChunk(String id, String object, long created, String model, List<CompletionResponse.Choice> choices,
                              @JsonInclude(JsonInclude.Include.NON_NULL) Object usage) {
}
