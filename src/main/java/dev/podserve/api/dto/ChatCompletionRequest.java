package dev.podserve.api.dto;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Body of {@code POST /v1/chat/completions}, with vLLM's sampling extensions. Fields left out are
 * null so the server can apply the model's defaults. Unknown fields are collected (and logged at debug) but otherwise ignored.
 */
public record ChatCompletionRequest(
        String model,
        List<ChatMessage> messages,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("max_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("min_p") Double minP,
        Long seed,
        Object stop,
        @JsonProperty("stop_token_ids") List<Integer> stopTokenIds,
        Integer n,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        @JsonProperty("repetition_penalty") Double repetitionPenalty,
        @JsonProperty("logit_bias") Map<String, Double> logitBias,
        Boolean logprobs,
        @JsonProperty("top_logprobs") Integer topLogprobs,
        @JsonProperty("prompt_logprobs") Integer promptLogprobs,
        @JsonProperty("allowed_token_ids") List<Integer> allowedTokenIds,
        @JsonProperty("bad_words") List<String> badWords,
        @JsonProperty("truncate_prompt_tokens") Integer truncatePromptTokens,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        @JsonProperty("include_stop_str_in_output") Boolean includeStopStrInOutput,
        @JsonProperty("min_tokens") Integer minTokens,
        @JsonProperty("add_generation_prompt") Boolean addGenerationPrompt,
        @JsonProperty("continue_final_message") Boolean continueFinalMessage,
        @JsonProperty("skip_special_tokens") Boolean skipSpecialTokens,
        Object tools,
        @JsonProperty("tool_choice") Object toolChoice,
        @JsonProperty("response_format") Map<String, Object> responseFormat,
        @JsonProperty("structured_outputs") Map<String, Object> structuredOutputs,
        String user,
        @JsonProperty("cache_salt") String cacheSalt,
        Integer priority,
        @JsonAnySetter Map<String, Object> unknownFields) implements SamplingFields {
}
