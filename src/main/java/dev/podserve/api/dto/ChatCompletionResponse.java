package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A {@code chat.completion} object. {@code prompt_logprobs} (vLLM's) is there only when asked, once
 * for the prompt all choices share.
 */
public record ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices, Usage usage,
                                     @JsonProperty("prompt_logprobs") @JsonInclude(JsonInclude.Include.NON_NULL)
                                     List<java.util.Map<String, PromptLogprob>> promptLogprobs) {

    public ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices, Usage usage) {
        this(id, object, created, model, choices, usage, null);
    }

    /** {@code stop_reason} (vLLM's): the stop string (a string) or stop token id (a number) that ended the choice, else null. */
    public record Choice(int index, Message message, @JsonInclude(JsonInclude.Include.ALWAYS) ChatLogprobs logprobs,
                         @JsonProperty("finish_reason") String finishReason,
                         @JsonProperty("stop_reason") @JsonInclude(JsonInclude.Include.ALWAYS) Object stopReason) {
    }

    /**
     * {@code content} is null when the turn is tool calls; {@code reasoning_content} (vLLM's name)
     * holds a reasoning model's thinking, and is left out for other models.
     */
    public record Message(String role, String content,
                          @JsonProperty("tool_calls") @JsonInclude(JsonInclude.Include.NON_NULL) List<ToolCall> toolCalls,
                          @JsonProperty("reasoning_content") @JsonInclude(JsonInclude.Include.NON_NULL) String reasoningContent) {

        /** vLLM's newer name for the thinking, sent beside {@code reasoning_content} as vLLM sends both. */
        @JsonProperty("reasoning")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        public String reasoning() {
            return reasoningContent;
        }

        public Message(String role, String content) {
            this(role, content, null, null);
        }

        public Message(String role, String content, List<ToolCall> toolCalls) {
            this(role, content, toolCalls, null);
        }
    }

    /** One call of a tool: {@code arguments} is JSON text, as OpenAI sends it. */
    public record ToolCall(String id, String type, Function function) {
    }

    public record Function(String name, String arguments) {
    }
}
