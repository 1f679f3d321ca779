package dev.podserve.api.dto;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One chat message. {@code content} is a string, a list of OpenAI content parts
 * ({@code {"type": "text", "text": ...}}), or null for an assistant turn without text.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChatMessage(String role, Object content, String name) {
}
