package dev.podserve.structured;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Random schemas over the enforced keywords, values valid under them, and texts one edit away from
 * a valid text: the inputs of the recognizer's randomized tests.
 */
final class RandomSchemas {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** String content: ASCII, characters JSON must escape, and two- to four-byte UTF-8. */
    private static final String[] CHARS = {"a", "b", "z", " ", "Q", "7", "\"", "\\", "\n", "\t", "/", "\u00e9", "\u20ac", "\ud83d\ude00", "\u0001"};
    /** Bytes an edit may put in: the JSON syntax, digits, letters of its words, whitespace. */
    private static final byte[] EDIT_BYTES = "{}[]:,\"\\ -+.0159eEtrufalsnx\n".getBytes(StandardCharsets.US_ASCII);

    private final Random rnd;

    RandomSchemas(Random rnd) {
        this.rnd = rnd;
    }

    /** A schema with a recursive {@code tree} and a random {@code item} under {@code $defs}. */
    ObjectNode schema() {
        ObjectNode defs = F.objectNode();
        ObjectNode tree = F.objectNode().put("type", "object");
        tree.set("properties", F.objectNode()
                .<ObjectNode>set("v", F.objectNode().put("type", "integer"))
                .set("kids", F.objectNode().put("type", "array").put("maxItems", 2)
                        .set("items", F.objectNode().put("$ref", "#/$defs/tree"))));
        tree.set("required", F.arrayNode().add("v"));
        defs.set("tree", tree);
        defs.set("item", node(2, false));
        ObjectNode root = node(0, true);
        root.set("$defs", defs);
        return root;
    }

    private ObjectNode node(int depth, boolean refs) {
        int kinds = depth >= 3 ? 6 : 12;
        ObjectNode s = F.objectNode();
        switch (rnd.nextInt(kinds)) {
            case 0 -> {
                s.put("type", "string");
                if (rnd.nextBoolean()) s.put("minLength", rnd.nextInt(3));
                if (rnd.nextBoolean()) s.put("maxLength", 3 + rnd.nextInt(4));
            }
            case 1 -> s.put("type", "integer");
            case 2 -> s.put("type", "number");
            case 3 -> s.put("type", "boolean");
            case 4 -> s.set("type", F.arrayNode().add("string").add("null"));
            case 5 -> {
                ArrayNode values = F.arrayNode();
                values.add("red").add(12).add(1).add(F.nullNode()).add("r\u00e9d");
                if (rnd.nextBoolean()) values.add(F.objectNode().set("a", F.arrayNode().add(1).add("x")));
                s.set("enum", values);
            }
            case 6, 7 -> {
                s.put("type", "object");
                ObjectNode props = F.objectNode();
                ArrayNode required = F.arrayNode();
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    String name = i == 0 && rnd.nextBoolean() ? "n\"q" : "p" + i + (i % 2 == 0 ? "" : "x");
                    props.set(name, node(depth + 1, refs));
                    if (rnd.nextBoolean()) required.add(name);
                }
                s.set("properties", props);
                if (!required.isEmpty()) s.set("required", required);
                switch (rnd.nextInt(4)) {
                    case 0 -> s.put("additionalProperties", false);
                    case 1 -> s.put("additionalProperties", true);
                    case 2 -> s.set("additionalProperties", F.objectNode().put("type", "integer"));
                    default -> { }
                }
            }
            case 8 -> {
                s.put("type", "array");
                s.set("items", node(depth + 1, refs));
                if (rnd.nextBoolean()) s.put("minItems", rnd.nextInt(2));
                if (rnd.nextBoolean()) s.put("maxItems", 2 + rnd.nextInt(2));
                if (rnd.nextInt(3) == 0) s.set("prefixItems", F.arrayNode().add(node(depth + 1, refs)));
            }
            case 9 -> s.set("anyOf", F.arrayNode().add(node(depth + 1, refs)).add(node(depth + 1, refs)));
            case 10 -> {
                if (refs) s.put("$ref", rnd.nextBoolean() ? "#/$defs/tree" : "#/$defs/item");
                else s.put("type", "null");
            }
            default -> s.put("type", "object"); // any members
        }
        return s;
    }

    /** A value valid under {@code schema}. */
    JsonNode value(JsonNode schema, JsonNode root, int depth) {
        if (schema.has("$ref")) {
            return value(root.at(JsonPointer.compile(schema.get("$ref").stringValue().substring(1))), root, depth + 1);
        }
        if (schema.has("enum")) return schema.get("enum").get(rnd.nextInt(schema.get("enum").size()));
        if (schema.has("anyOf")) return value(schema.get("anyOf").get(rnd.nextInt(schema.get("anyOf").size())), root, depth + 1);
        JsonNode type = schema.get("type");
        String t = type.isArray() ? type.get(rnd.nextInt(type.size())).stringValue() : type.stringValue();
        return switch (t) {
            case "string" -> F.stringNode(string(schema.path("minLength").asInt(0), schema.has("maxLength") ? schema.get("maxLength").asInt() : 6));
            case "integer" -> F.numberNode(rnd.nextInt(2001) - 1000);
            case "number" -> F.numberNode((rnd.nextInt(200001) - 100000) / 100.0);
            case "boolean" -> F.booleanNode(rnd.nextBoolean());
            case "null" -> F.nullNode();
            case "array" -> array(schema, root, depth);
            default -> object(schema, root, depth);
        };
    }

    private JsonNode object(JsonNode schema, JsonNode root, int depth) {
        ObjectNode o = F.objectNode();
        JsonNode props = schema.get("properties");
        if (props == null) {
            for (int i = rnd.nextInt(3); i > 0; i--) o.set("k" + rnd.nextInt(9), anyValue(depth + 1));
            return o;
        }
        List<String> names = new ArrayList<>(props.propertyNames());
        java.util.Collections.shuffle(names, rnd);
        for (String name : names) {
            boolean required = false;
            for (JsonNode r : schema.path("required")) required |= r.stringValue().equals(name);
            if (required || (depth < 6 && rnd.nextBoolean())) o.set(name, value(props.get(name), root, depth + 1));
        }
        JsonNode extra = schema.get("additionalProperties");
        if (extra != null && !(extra.isBoolean() && !extra.booleanValue()) && rnd.nextBoolean()) {
            o.set("extra" + rnd.nextInt(3), extra.isBoolean() ? anyValue(depth + 1) : value(extra, root, depth + 1));
        }
        return o;
    }

    private JsonNode array(JsonNode schema, JsonNode root, int depth) {
        ArrayNode a = F.arrayNode();
        int min = schema.path("minItems").asInt(0);
        int max = schema.has("maxItems") ? schema.get("maxItems").asInt() : min + 3;
        int n = depth > 6 ? min : min + rnd.nextInt(max - min + 1);
        JsonNode prefix = schema.get("prefixItems");
        for (int i = 0; i < n; i++) {
            JsonNode shape = prefix != null && i < prefix.size() ? prefix.get(i) : schema.get("items");
            a.add(value(shape, root, depth + 1));
        }
        return a;
    }

    JsonNode anyValue(int depth) {
        int kind = rnd.nextInt(depth > 2 ? 4 : 6);
        return switch (kind) {
            case 0 -> F.stringNode(string(0, 5));
            case 1 -> F.numberNode(rnd.nextInt(100) - 50);
            case 2 -> F.booleanNode(rnd.nextBoolean());
            case 3 -> F.nullNode();
            case 4 -> {
                ArrayNode a = F.arrayNode();
                for (int i = rnd.nextInt(3); i > 0; i--) a.add(anyValue(depth + 1));
                yield a;
            }
            default -> {
                ObjectNode o = F.objectNode();
                for (int i = rnd.nextInt(3); i > 0; i--) o.set("k" + rnd.nextInt(9), anyValue(depth + 1));
                yield o;
            }
        };
    }

    private String string(int min, int max) {
        StringBuilder b = new StringBuilder();
        int n = min + rnd.nextInt(Math.max(1, max - min + 1));
        for (int i = 0; i < n; i++) b.append(CHARS[rnd.nextInt(CHARS.length)]);
        return b.toString();
    }

    /** The value as text: compact or indented, sometimes after a little whitespace. */
    byte[] text(JsonNode value) {
        String body = rnd.nextBoolean() ? JSON.writeValueAsString(value) : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        return ((rnd.nextInt(4) == 0 ? " \n" : "") + body).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code text} after one random edit: a byte dropped, put in, replaced, or the end cut off. */
    byte[] edit(byte[] text) {
        int at = text.length == 0 ? 0 : rnd.nextInt(text.length);
        byte put = EDIT_BYTES[rnd.nextInt(EDIT_BYTES.length)];
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                out.write(text, 0, at);
                if (at < text.length) out.write(text, at + 1, text.length - at - 1);
            }
            case 1 -> {
                out.write(text, 0, at);
                out.write(put);
                out.write(text, at, text.length - at);
            }
            case 2 -> {
                out.write(text, 0, at);
                out.write(put);
                if (at < text.length) out.write(text, at + 1, text.length - at - 1);
            }
            default -> out.write(text, 0, at);
        }
        return out.toByteArray();
    }
}
