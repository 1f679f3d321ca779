package dev.podserve.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link ToolCallFormat#QWEN3_CODER} call's {@code <parameter=KEY>value</parameter>} elements as
 * the JSON object OpenAI's {@code arguments} are. The model writes every value as plain text, so each
 * is typed by its property's schema in the request's tools, as vLLM's {@code qwen3_coder} parser types
 * it: a string is the text as written (code, newlines and all), a number or a boolean is read as one,
 * anything else is JSON where the text is JSON, the text otherwise, and a parameter the schema does not
 * list is the text.
 */
final class XmlParameters {

    static final String OPEN = "<parameter=";
    static final String CLOSE = "</parameter>";

    /** Whole values only: {@code 1 2} is text, not the number 1. */
    private static final ObjectMapper JSON = ToolCallAnswers.JSON.rebuild()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Schema types read as text, as vLLM names them. */
    private static final List<String> TEXT = List.of("string", "str", "text", "varchar", "char", "enum");

    private XmlParameters() {
    }

    /**
     * The arguments of a call whose body (between {@code <function=NAME>} and {@code </function>}, or
     * the end of a cut answer) is {@code body}.
     *
     * @param properties the function's {@code parameters.properties}; null where the tools do not list
     *                   the function, whose values are then all read as a parameter not in the schema
     */
    static String arguments(String body, Map<String, Object> properties) {
        ObjectNode arguments = NODES.objectNode();
        int at = body.indexOf(OPEN);
        while (at >= 0) {
            int nameStart = at + OPEN.length();
            int gt = body.indexOf('>', nameStart);
            int next = body.indexOf(OPEN, nameStart);
            if (gt < 0 || (next >= 0 && next < gt)) {
                // A name that never closes is no parameter (a cut answer ends in one).
                at = next;
                continue;
            }
            // A value ends at its closer, or, where the model left that out, where the next one or the body begins.
            int close = body.indexOf(CLOSE, gt + 1);
            int following = body.indexOf(OPEN, gt + 1);
            int end = close >= 0 && (following < 0 || close < following) ? close : following >= 0 ? following : body.length();
            String name = body.substring(nameStart, gt);
            // The template puts the value on lines of its own: one line feed either side is the layout, not the value.
            String text = body.substring(gt + 1, end);
            if (text.startsWith("\n")) text = text.substring(1);
            if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
            // A repeated name: the last value, in the place of the first (as a Python dict keeps it).
            // A parameter the schema does not list is text (null aside), as vLLM's parser leaves it.
            arguments.set(name, properties != null && properties.containsKey(name) ? typed(text, properties.get(name)) : unlisted(text));
            at = body.indexOf(OPEN, end);
        }
        return ToolCallAnswers.JSON.writeValueAsString(arguments);
    }

    /** {@code text} as its property's schema types it. */
    static JsonNode typed(String text, Object schema) {
        String type = type(schema);
        String trimmed = text.strip();
        // Null whatever the type, string too, as vLLM reads it: a model leaves out a value so.
        if (trimmed.equalsIgnoreCase("null")) return NODES.nullNode();
        if (TEXT.contains(type)) return NODES.stringNode(text);
        if (type.startsWith("int") || type.startsWith("uint") || type.startsWith("long") || type.startsWith("short")
                || type.startsWith("unsigned")) {
            try {
                return NODES.numberNode(new BigInteger(trimmed));
            } catch (NumberFormatException e) {
                return NODES.stringNode(text);
            }
        }
        if (type.startsWith("num") || type.startsWith("float")) return number(text, trimmed);
        if (type.equals("boolean") || type.equals("bool") || type.equals("binary")) {
            if (trimmed.equalsIgnoreCase("true") || trimmed.equalsIgnoreCase("false")) {
                return NODES.booleanNode(trimmed.equalsIgnoreCase("true"));
            }
            return NODES.stringNode(text);
        }
        return json(text);
    }

    /**
     * A property's type, lower case: a property that names none is text (vLLM's reading); of a list of
     * types, {@code string} where it is one (the text is then always valid), else the first but null.
     */
    private static String type(Object schema) {
        Object type = schema instanceof Map<?, ?> m ? m.get("type") : null;
        if (type instanceof List<?> types) {
            if (types.contains("string")) return "string";
            type = types.stream().filter(t -> t instanceof String && !"null".equals(t)).findFirst().orElse(null);
        }
        return type instanceof String s ? s.strip().toLowerCase(Locale.ROOT) : "string";
    }

    /** A number, whole where it has no fraction ({@code 3.0} is 3, as vLLM gives it); the text where it is none. */
    private static JsonNode number(String text, String trimmed) {
        BigDecimal value;
        try {
            value = new BigDecimal(trimmed);
        } catch (NumberFormatException e) {
            return NODES.stringNode(text);
        }
        BigDecimal plain = value.stripTrailingZeros();
        // A huge exponent stays a decimal: written out whole it would be that many digits.
        if (plain.scale() <= 0 && plain.precision() - plain.scale() <= 400) return NODES.numberNode(plain.toBigIntegerExact());
        return NODES.numberNode(plain);
    }

    private static JsonNode unlisted(String text) {
        return text.strip().equalsIgnoreCase("null") ? NODES.nullNode() : NODES.stringNode(text);
    }

    /** The JSON value {@code text} is, or the text where it is not one. */
    static JsonNode json(String text) {
        try {
            JsonNode value = JSON.readTree(text);
            if (value != null && !value.isMissingNode()) return value;
        } catch (RuntimeException e) {
            // Not JSON: the text itself.
        }
        return NODES.stringNode(text);
    }
}
