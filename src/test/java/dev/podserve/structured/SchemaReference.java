package dev.podserve.structured;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;

import tools.jackson.core.JsonPointer;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The slow reference the recognizer is checked against: a strict JSON parser (Jackson, duplicate
 * names and trailing tokens refused) and a plain recursive validator over the parsed tree for the
 * keywords {@link SchemaCompiler} enforces, with its two documented defaults. Shares no code with
 * the recognizer.
 */
final class SchemaReference {

    static final JsonMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private SchemaReference() {
    }

    /**
     * Whether {@code text} is one JSON value valid under {@code schema} (null: any object), with no
     * whitespace after it (the recognizer's rule: only the end may follow a complete value).
     */
    static boolean accepts(JsonNode schema, byte[] text) {
        if (text.length > 0 && isWhitespace(text[text.length - 1])) return false;
        JsonNode value;
        try {
            String decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(text)).toString();
            value = STRICT.readTree(decoded);
        } catch (CharacterCodingException | RuntimeException e) {
            return false;
        }
        if (value == null || value.isMissingNode() || !pairedSurrogates(value)) return false;
        return schema == null ? value.isObject() : valid(schema, schema, value);
    }

    /** Whether every string and name in the tree is well-formed UTF-16 (an escaped surrogate has its other half). */
    private static boolean pairedSurrogates(JsonNode v) {
        if (v.isString()) return paired(v.stringValue());
        if (v.isObject()) {
            for (String name : v.propertyNames()) {
                if (!paired(name) || !pairedSurrogates(v.get(name))) return false;
            }
        }
        if (v.isArray()) {
            for (JsonNode item : v) {
                if (!pairedSurrogates(item)) return false;
            }
        }
        return true;
    }

    private static boolean paired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    static boolean valid(JsonNode schema, JsonNode root, JsonNode v) {
        if (schema.isBoolean()) return schema.booleanValue();
        if (schema.has("$ref")) {
            String p = schema.get("$ref").stringValue().substring(1);
            return valid(p.isEmpty() ? root : root.at(JsonPointer.compile(p)), root, v);
        }
        if (schema.has("enum")) {
            for (JsonNode e : schema.get("enum")) {
                if (e.equals(v)) return true;
            }
            return false;
        }
        if (schema.has("const")) return schema.get("const").equals(v);
        for (String any : new String[] {"anyOf", "oneOf"}) {
            if (schema.has(any)) {
                for (JsonNode o : schema.get(any)) {
                    if (valid(o, root, v)) return true;
                }
                return false;
            }
        }
        if (schema.has("allOf")) return valid(schema.get("allOf").get(0), root, v);
        JsonNode type = schema.get("type");
        if (type == null) {
            if (schema.has("properties") || schema.has("additionalProperties") || schema.has("required")) return object(schema, root, v);
            if (schema.has("items") || schema.has("prefixItems") || schema.has("minItems") || schema.has("maxItems")) return array(schema, root, v);
            if (schema.has("minLength") || schema.has("maxLength")) return string(schema, v);
            return true;
        }
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (typed(schema, t.stringValue(), root, v)) return true;
            }
            return false;
        }
        return typed(schema, type.stringValue(), root, v);
    }

    private static boolean typed(JsonNode s, String type, JsonNode root, JsonNode v) {
        return switch (type) {
            case "object" -> object(s, root, v);
            case "array" -> array(s, root, v);
            case "string" -> string(s, v);
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> throw new IllegalArgumentException(type);
        };
    }

    private static boolean object(JsonNode s, JsonNode root, JsonNode v) {
        if (!v.isObject()) return false;
        JsonNode props = s.get("properties");
        if (s.has("required")) {
            for (JsonNode r : s.get("required")) {
                if (!v.has(r.stringValue())) return false;
            }
        }
        JsonNode extra = s.get("additionalProperties");
        for (String name : v.propertyNames()) {
            if (props != null && props.has(name)) {
                if (!valid(props.get(name), root, v.get(name))) return false;
            } else if (extra == null) {
                // The documented default: listed properties close the object.
                if (props != null && !props.isEmpty()) return false;
            } else if (!valid(extra, root, v.get(name))) {
                return false;
            }
        }
        return true;
    }

    private static boolean array(JsonNode s, JsonNode root, JsonNode v) {
        if (!v.isArray()) return false;
        int n = v.size();
        if (s.has("minItems") && n < s.get("minItems").intValue()) return false;
        if (s.has("maxItems") && n > s.get("maxItems").intValue()) return false;
        JsonNode prefix = s.get("prefixItems");
        int p = prefix == null ? 0 : prefix.size();
        Iterator<JsonNode> items = v.iterator();
        for (int i = 0; items.hasNext(); i++) {
            JsonNode item = items.next();
            JsonNode shape = i < p ? prefix.get(i) : s.get("items");
            if (shape != null && !valid(shape, root, item)) return false;
        }
        return true;
    }

    private static boolean string(JsonNode s, JsonNode v) {
        if (!v.isString()) return false;
        String text = v.stringValue();
        int chars = text.codePointCount(0, text.length());
        if (s.has("minLength") && chars < s.get("minLength").intValue()) return false;
        return !s.has("maxLength") || chars <= s.get("maxLength").intValue();
    }

    private static final Set<Byte> WHITESPACE = Set.of((byte) ' ', (byte) '\n', (byte) '\r', (byte) '\t');

    private static boolean isWhitespace(byte b) {
        return WHITESPACE.contains(b);
    }
}
