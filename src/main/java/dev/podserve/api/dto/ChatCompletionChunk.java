package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A {@code chat.completion.chunk}. {@code usage} is left out unless the client asked for usage;
 * then it is JSON null on every chunk but the last (pass a JSON null node for that), or with vLLM's
 * {@code continuous_usage_stats} the counts so far.
 */
public record ChatCompletionChunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                                  @JsonInclude(JsonInclude.Include.NON_NULL) Object usage) {

    /** {@code stop_reason} as in {@link ChatCompletionResponse.Choice}, on the finishing chunk; null on the others. */
    public record ChunkChoice(int index, Delta delta, @JsonInclude(JsonInclude.Include.ALWAYS) ChatLogprobs logprobs,
                              @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("finish_reason") String finishReason,
                              @JsonInclude(JsonInclude.Include.ALWAYS) @JsonProperty("stop_reason") Object stopReason) {
    }

    /** Only the fields that changed: {@code {}} on the finishing chunk. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, @JsonProperty("tool_calls") List<ToolCallDelta> toolCalls,
                        @JsonProperty("reasoning_content") String reasoningContent) {

        public Delta(String role, String content) {
            this(role, content, null, null);
        }

        public Delta(String role, String content, List<ToolCallDelta> toolCalls) {
            this(role, content, toolCalls, null);
        }

        /** vLLM's newer name for a piece of the thinking, sent beside {@code reasoning_content} as vLLM sends both. */
        @JsonProperty("reasoning")
        public String reasoning() {
            return reasoningContent;
        }

        /** A piece of a reasoning model's thinking. */
        public static Delta reasoning(String text) {
            return new Delta(null, null, null, text);
        }
    }

    /** A piece of tool call {@code index}: its id, type and name come in its first piece only. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ToolCallDelta(int index, String id, String type, FunctionDelta function) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FunctionDelta(String name, String arguments) {
    }
}
