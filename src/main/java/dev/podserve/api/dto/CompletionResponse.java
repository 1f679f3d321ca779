package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A {@code text_completion} object. */
public record CompletionResponse(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    /**
     * {@code logprobs} is null unless requested (OpenAI sends the key with null). {@code stop_reason}
     * (vLLM's): the stop string (a string) or stop token id (a number) that ended the choice, else
     * null; streamed, on the finishing chunk. {@code prompt_logprobs} (vLLM's) is there only when
     * asked: null for the first prompt token, then per position the prompt token and the likeliest
     * alternatives by token id.
     */
    public record Choice(int index, String text, @JsonInclude(JsonInclude.Include.ALWAYS) CompletionLogprobs logprobs,
                         @JsonProperty("finish_reason") String finishReason,
                         @JsonProperty("stop_reason") @JsonInclude(JsonInclude.Include.ALWAYS) Object stopReason,
                         @JsonProperty("prompt_logprobs") @JsonInclude(JsonInclude.Include.NON_NULL)
                         List<java.util.Map<String, PromptLogprob>> promptLogprobs) {

        public Choice(int index, String text, CompletionLogprobs logprobs, String finishReason, Object stopReason) {
            this(index, text, logprobs, finishReason, stopReason, null);
        }
    }

    /** Legacy completions log-probabilities: parallel lists per generated token. */
    public record CompletionLogprobs(List<String> tokens,
                                     @JsonProperty("token_logprobs") List<Float> tokenLogprobs,
                                     @JsonProperty("top_logprobs") List<java.util.Map<String, Float>> topLogprobs,
                                     @JsonProperty("text_offset") List<Integer> textOffset) {
    }
}
