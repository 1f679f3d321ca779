package dev.podserve.api;

import java.util.List;
import java.util.UUID;

import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tool calls as OpenAI's {@code tool_calls}: their ids, and a named function's answer, whose text
 * is the arguments. ({@code "required"} and {@code "auto"} answers are read by a {@link CallReader}.)
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

    private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /** Mistral's shape of a call id: 9 letters and digits, as its chat templates require and vLLM makes them. */
    static String newShortId() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        char[] id = new char[9];
        for (int i = 0; i < id.length; i++) id[i] = ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length()));
        return new String(id);
    }

    /** A named function's one call, its arguments the answer's text as generated. */
    static List<ToolCall> named(String id, String function, String text) {
        return List.of(new ToolCall(id, "function", new Function(function, text)));
    }
}
