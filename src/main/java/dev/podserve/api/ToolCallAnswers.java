package dev.podserve.api;

import java.util.List;
import java.util.UUID;

import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tool calls as OpenAI's {@code tool_calls}: their ids, and a named function's answer, whose text
 * is the arguments. ({@code "required"} and {@code "auto"} answers are read by {@link ToolCallText}.)
 */
final class ToolCallAnswers {

    /** For the strings of calls (names, arguments given as a string); numbers as BigDecimal, never through a double. */
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

    /** A named function's one call, its arguments the answer's text as generated. */
    static List<ToolCall> named(String function, String text) {
        return List.of(new ToolCall(newId(), "function", new Function(function, text)));
    }
}
