package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Body of vLLM's {@code POST /tokenize}: either a {@code prompt} or chat {@code messages}.
 * {@code add_special_tokens} defaults to true for a prompt and false for messages (the template
 * places them), as vLLM does. {@code tools}, {@code chat_template_kwargs} and {@code continue_final_message}
 * reach the chat template as in a chat request.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TokenizeRequest(
        String model,
        String prompt,
        List<ChatMessage> messages,
        @JsonProperty("add_generation_prompt") Boolean addGenerationPrompt,
        @JsonProperty("continue_final_message") Boolean continueFinalMessage,
        @JsonProperty("add_special_tokens") Boolean addSpecialTokens,
        @JsonProperty("return_token_strs") Boolean returnTokenStrs,
        Object tools,
        @JsonProperty("chat_template_kwargs") Object chatTemplateKwargs) {

    /** Without the text: Spring logs decoded bodies at DEBUG, and prompts are the users' data. */
    @Override
    public String toString() {
        return "TokenizeRequest[model=" + model + ", prompt=" + (prompt == null ? "null" : "(not shown)")
                + ", messages=" + messages + "]";
    }
}
