package dev.podserve.api.dto;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One chat message. {@code content} is a string, a list of OpenAI content parts
 * ({@code {"type": "text", "text": ...}}), or null for an assistant turn without text.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChatMessage(String role, Object content, String name) {

    /** Without the content: Spring logs decoded bodies at DEBUG, and message text is the users' data. */
    @Override
    public String toString() {
        return "ChatMessage[role=" + role + ", content=" + (content == null ? "null" : "(not shown)") + ", name=" + name + "]";
    }
}
