package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A forced tool call's answer text as OpenAI's {@code tool_calls}: for a named function the text
 * is the arguments; for {@code "required"} it is a JSON array of {@code {"name", "parameters"}},
 * each call's parameters re-written as compact JSON text for {@code arguments}.
 */
final class ToolCallAnswers {

    /** Numbers kept as generated: as BigDecimal, never through a double (1e400 would come back as "Infinity"). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(tools.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(tools.jackson.databind.cfg.JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(tools.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();

    private ToolCallAnswers() {
    }

    /** OpenAI's shape of a call id. */
    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    /** The calls in a {@code "required"} answer, or null where the text is not a whole array of calls (cut by max_tokens). */
    static List<ToolCall> required(String text) {
        JsonNode calls;
        try {
            calls = JSON.readTree(text);
        } catch (RuntimeException e) {
            return null;
        }
        if (calls == null || !calls.isArray() || calls.isEmpty()) return null;
        List<ToolCall> out = new ArrayList<>(calls.size());
        for (JsonNode c : calls) {
            if (!c.path("name").isString() || !c.has("parameters")) return null;
            out.add(new ToolCall(newId(), "function", new Function(c.get("name").stringValue(), JSON.writeValueAsString(c.get("parameters")))));
        }
        return out;
    }

    /** A named function's one call, its arguments the answer's text as generated. */
    static List<ToolCall> named(String function, String text) {
        return List.of(new ToolCall(newId(), "function", new Function(function, text)));
    }
}
