package dev.podserve.api.dto;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Body of {@code POST /v1/completions}. Fields left out are null so the server can tell "not
 * given" from a value and apply the model's defaults. {@code prompt} is a string, a list of
 * strings, a list of token ids or a list of such lists; {@code stop} a string or a list of
 * strings. Unknown fields are collected (and logged at debug) but otherwise ignored.
 */
public record CompletionRequest(
        String model,
        Object prompt,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("max_tokens") Integer maxTokens,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("min_p") Double minP,
        Long seed,
        Object stop,
        @JsonProperty("stop_token_ids") List<Integer> stopTokenIds,
        Integer n,
        Boolean echo,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        @JsonProperty("include_stop_str_in_output") Boolean includeStopStrInOutput,
        @JsonProperty("min_tokens") Integer minTokens,
        @JsonProperty("presence_penalty") Double presencePenalty,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        @JsonProperty("repetition_penalty") Double repetitionPenalty,
        @JsonProperty("logit_bias") Map<String, Double> logitBias,
        Integer logprobs,
        @JsonProperty("skip_special_tokens") Boolean skipSpecialTokens,
        String suffix,
        @JsonProperty("best_of") Integer bestOf,
        @JsonProperty("prompt_logprobs") Integer promptLogprobs,
        @JsonProperty("allowed_token_ids") List<Integer> allowedTokenIds,
        @JsonProperty("bad_words") List<String> badWords,
        @JsonProperty("truncate_prompt_tokens") Integer truncatePromptTokens,
        String user,
        @JsonProperty("cache_salt") String cacheSalt,
        @JsonProperty("response_format") Map<String, Object> responseFormat,
        @JsonProperty("structured_outputs") Map<String, Object> structuredOutputs,
        Integer priority,
        @JsonAnySetter Map<String, Object> unknownFields) implements SamplingFields {

    /** Names the fields set, not their values: Spring logs decoded bodies at DEBUG, and prompts are the users' data. */
    @Override
    public String toString() {
        return "CompletionRequest[model=" + model + ", prompt=" + (prompt == null ? "null" : "(not shown)")
                + ", stream=" + stream + ", max_tokens=" + maxTokens + ", n=" + n + "]";
    }
}
