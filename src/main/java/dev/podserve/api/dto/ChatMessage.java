package dev.podserve.api.dto;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One chat message. {@code content} is a string, a list of OpenAI content parts
 * ({@code {"type": "text", "text": ...}}), or null for an assistant turn without text.
 * {@code toolCalls}: the calls an assistant turn made; {@code toolCallId}: the call a {@code tool}
 * message answers; {@code reasoning} (vLLM's name; {@code reasoning_content}, its older one): an
 * assistant turn's thinking, for templates that write it back (interleaved thinking).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChatMessage(String role, Object content, String name,
                          @JsonProperty("tool_calls") List<Map<String, Object>> toolCalls,
                          @JsonProperty("tool_call_id") String toolCallId,
                          @JsonProperty("reasoning") String reasoning,
                          @JsonProperty("reasoning_content") String reasoningContent) {

    public ChatMessage(String role, Object content, String name) {
        this(role, content, name, null, null, null, null);
    }

    public ChatMessage(String role, Object content, String name, List<Map<String, Object>> toolCalls, String toolCallId) {
        this(role, content, name, toolCalls, toolCallId, null, null);
    }

    /** Without the content: Spring logs decoded bodies at DEBUG, and message text is the users' data. */
    @Override
    public String toString() {
        return "ChatMessage[role=" + role + ", content=" + (content == null ? "null" : "(not shown)") + ", name=" + name + "]";
    }
}
