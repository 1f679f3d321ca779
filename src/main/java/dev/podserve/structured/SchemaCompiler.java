package dev.podserve.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.podserve.structured.Shape.ArrayShape;
import dev.podserve.structured.Shape.Literals;
import dev.podserve.structured.Shape.NumberShape;
import dev.podserve.structured.Shape.ObjectShape;
import dev.podserve.structured.Shape.Property;
import dev.podserve.structured.Shape.StringShape;

import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Reads a JSON Schema into {@link Shape}s. Every assertion keyword either is enforced on the output
 * or makes the schema a 400: a server that quietly ignored {@code minimum} would hand back output
 * that fails the client's own validation. Annotations ({@code title}, {@code description},
 * {@code format}, ...) are read past, as JSON Schema allows.
 *
 * <p>Two choices where JSON Schema is loose, both those of OpenAI's strict mode:
 * <ul>
 *   <li>an object that lists {@code properties} and says nothing of {@code additionalProperties}
 *       gets only those names; an object that lists none takes any names;</li>
 *   <li>{@code oneOf} is read as {@code anyOf}: "exactly one" cannot be checked a byte at a time.</li>
 * </ul>
 */
public final class SchemaCompiler {

    /** Keywords that describe and constrain nothing. */
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly", "format", "contentEncoding", "contentMediaType", "$defs",
            "definitions");
    private static final Set<String> ENFORCED = Set.of("type", "properties", "required", "additionalProperties", "items",
            "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "allOf", "$ref");
    /** Deepest nesting of schemas read; deeper is refused before the reader's own stack runs out. */
    private static final int MAX_DEPTH = 100;
    /** Most schema objects read (each $ref target once). */
    private static final int MAX_SCHEMAS = 10_000;

    private static final ObjectMapper COMPACT = JsonMapper.builder().build();

    private final JsonNode root;
    private final Map<String, Shape.Ref> refs = new HashMap<>();
    private int schemas;

    private SchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** @throws SchemaException naming what in the schema cannot be enforced or is malformed */
    public static Shape compile(JsonNode schema) {
        SchemaCompiler c = new SchemaCompiler(schema);
        Shape shape = c.shape(schema, "#", 0);
        checkNoEmptyCycle(shape);
        return shape;
    }

    private Shape shape(JsonNode s, String path, int depth) {
        if (depth > MAX_DEPTH) throw new SchemaException("the schema nests deeper than " + MAX_DEPTH + " levels at " + path);
        if (++schemas > MAX_SCHEMAS) throw new SchemaException("the schema has more than " + MAX_SCHEMAS + " subschemas");
        if (s.isBoolean()) {
            if (s.booleanValue()) return Shape.Any.INSTANCE;
            throw new SchemaException("the schema at " + path + " is false: no value matches it");
        }
        if (!s.isObject()) throw new SchemaException("the schema at " + path + " must be an object or a boolean");
        List<String> assertions = new ArrayList<>();
        for (String k : s.propertyNames()) {
            if (ENFORCED.contains(k)) {
                assertions.add(k);
            } else if (!ANNOTATIONS.contains(k)) {
                throw new SchemaException("the keyword \"" + k + "\" at " + path + " is not supported: the server cannot enforce it");
            }
        }
        for (String combinator : List.of("$ref", "anyOf", "oneOf", "allOf", "enum", "const")) {
            // A value list may say its type too ({"type": "string", "enum": [...]}): the values are then checked against it.
            boolean typedValues = (combinator.equals("enum") || combinator.equals("const")) && s.has("type");
            if (s.has(combinator) && assertions.size() > (typedValues ? 2 : 1)) {
                throw new SchemaException("at " + path + ", \"" + combinator + "\" cannot be combined with " + others(assertions, combinator)
                        + "; put the other keywords inside it");
            }
        }
        if (s.has("$ref")) return ref(s.get("$ref"), path, depth);
        if (s.has("enum")) return literals(s.get("enum"), s.get("type"), path + "/enum");
        if (s.has("const")) return literals(JsonNodeFactory.instance.arrayNode().add(s.get("const")), s.get("type"), path + "/const");
        if (s.has("anyOf")) return union(s.get("anyOf"), path + "/anyOf", depth);
        if (s.has("oneOf")) return union(s.get("oneOf"), path + "/oneOf", depth);
        if (s.has("allOf")) {
            JsonNode all = s.get("allOf");
            if (!all.isArray() || all.size() != 1) {
                throw new SchemaException("at " + path + ", \"allOf\" is supported with exactly one schema");
            }
            return shape(all.get(0), path + "/allOf/0", depth + 1);
        }
        JsonNode type = s.get("type");
        if (type == null) return typed(s, inferredType(s), path, depth);
        if (type.isString()) return typed(s, type.stringValue(), path, depth);
        if (!type.isArray() || type.isEmpty()) {
            throw new SchemaException("at " + path + ", \"type\" must be a type name or a non-empty list of them");
        }
        List<Shape> options = new ArrayList<>();
        for (JsonNode t : type) {
            if (!t.isString()) throw new SchemaException("at " + path + ", \"type\" lists something that is not a type name");
            options.add(typed(s, t.stringValue(), path, depth));
        }
        return options.size() == 1 ? options.get(0) : new Shape.Union(options);
    }

    private static String others(List<String> assertions, String combinator) {
        return assertions.stream().filter(k -> !k.equals(combinator)).map(k -> "\"" + k + "\"").toList().toString();
    }

    /** Without "type", what the keywords present speak of; none of them: any value. */
    private static String inferredType(JsonNode s) {
        if (s.has("properties") || s.has("additionalProperties") || s.has("required")) return "object";
        if (s.has("items") || s.has("prefixItems") || s.has("minItems") || s.has("maxItems")) return "array";
        if (s.has("minLength") || s.has("maxLength")) return "string";
        return null;
    }

    private Shape typed(JsonNode s, String type, String path, int depth) {
        if (type == null) return Shape.Any.INSTANCE;
        return switch (type) {
            case "object" -> object(s, path, depth);
            case "array" -> array(s, path, depth);
            case "string" -> {
                int min = count(s, "minLength", 0, path);
                int max = count(s, "maxLength", -1, path);
                if (max >= 0 && min > max) throw new SchemaException("at " + path + ", minLength is above maxLength");
                yield min == 0 && max < 0 ? StringShape.FREE : new StringShape(min, max);
            }
            case "number" -> NumberShape.NUMBER;
            case "integer" -> NumberShape.INTEGER;
            case "boolean" -> Literals.BOOLEAN;
            case "null" -> Literals.NULL;
            default -> throw new SchemaException("at " + path + ", \"" + type + "\" is not a JSON Schema type");
        };
    }

    private Shape object(JsonNode s, String path, int depth) {
        List<Property> properties = new ArrayList<>();
        JsonNode props = s.get("properties");
        if (props != null) {
            if (!props.isObject()) throw new SchemaException("at " + path + ", \"properties\" must be an object");
            if (props.size() > 64) throw new SchemaException("at " + path + ", an object may list at most 64 properties; it lists " + props.size());
            for (String name : props.propertyNames()) {
                properties.add(new Property(name, keyBytes(name),
                        shape(props.get(name), path + "/properties/" + escape(name), depth + 1)));
            }
        }
        long required = 0;
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) throw new SchemaException("at " + path + ", \"required\" must be a list of property names");
            for (JsonNode r : req) {
                int i = r.isString() ? indexOf(properties, r.stringValue()) : -1;
                if (i < 0) {
                    throw new SchemaException("at " + path + ", the required property " + r + " is not listed in \"properties\"");
                }
                required |= 1L << i;
            }
        }
        JsonNode extra = s.get("additionalProperties");
        Shape additional;
        if (extra == null) additional = properties.isEmpty() ? Shape.Any.INSTANCE : null;
        else if (extra.isBoolean()) additional = extra.booleanValue() ? Shape.Any.INSTANCE : null;
        else additional = shape(extra, path + "/additionalProperties", depth + 1);
        if (properties.isEmpty() && required == 0 && additional == Shape.Any.INSTANCE) return ObjectShape.FREE;
        return new ObjectShape(List.copyOf(properties), required, additional);
    }

    private Shape array(JsonNode s, String path, int depth) {
        List<Shape> prefix = new ArrayList<>();
        JsonNode pre = s.get("prefixItems");
        if (pre != null) {
            if (!pre.isArray()) throw new SchemaException("at " + path + ", \"prefixItems\" must be a list of schemas");
            for (int i = 0; i < pre.size(); i++) prefix.add(shape(pre.get(i), path + "/prefixItems/" + i, depth + 1));
        }
        JsonNode it = s.get("items");
        Shape items;
        if (it == null) items = Shape.Any.INSTANCE;
        else if (it.isBoolean()) items = it.booleanValue() ? Shape.Any.INSTANCE : null;
        else items = shape(it, path + "/items", depth + 1);
        int min = count(s, "minItems", 0, path);
        int max = count(s, "maxItems", -1, path);
        if (max >= 0 && min > max) throw new SchemaException("at " + path + ", minItems is above maxItems");
        if (items == null && min > prefix.size()) {
            throw new SchemaException("at " + path + ", minItems " + min + " cannot be met: only " + prefix.size() + " items are allowed");
        }
        if (prefix.isEmpty() && items == Shape.Any.INSTANCE && min == 0 && max < 0) return ArrayShape.FREE;
        return new ArrayShape(List.copyOf(prefix), items, min, max);
    }

    private Shape union(JsonNode options, String path, int depth) {
        if (!options.isArray() || options.isEmpty()) throw new SchemaException("at " + path + ", a non-empty list of schemas is expected");
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) shapes.add(shape(options.get(i), path + "/" + i, depth + 1));
        return shapes.size() == 1 ? shapes.get(0) : new Shape.Union(shapes);
    }

    /**
     * The values as shapes; each must be of the schema's {@code type} when it gives one. Strings,
     * numbers, booleans and null are matched as their compact encodings (a number as the schema
     * spells it: {@code 1.0} does not match {@code 1}); objects and arrays become shapes of their
     * own, so that whitespace and the order of names are as free as anywhere else.
     */
    private Shape literals(JsonNode values, JsonNode type, String path) {
        if (!values.isArray() || values.isEmpty()) throw new SchemaException("at " + path + ", a non-empty list of values is expected");
        List<byte[]> scalars = new ArrayList<>();
        List<Shape> options = new ArrayList<>();
        for (JsonNode v : values) {
            if (v.isNumber() && !Double.isFinite(v.doubleValue())) {
                throw new SchemaException("at " + path + ", the value " + v + " is not a finite number");
            }
            if (type != null && !hasType(v, type)) {
                throw new SchemaException("at " + path + ", the value " + v + " is not of the schema's type " + type);
            }
            if (v.isContainer()) options.add(constant(v));
            else scalars.add(COMPACT.writeValueAsBytes(v));
        }
        if (!scalars.isEmpty()) options.add(Literals.of(scalars));
        return options.size() == 1 ? options.get(0) : new Shape.Union(options);
    }

    /** A shape matching exactly the value {@code v}. */
    static Shape constant(JsonNode v) {
        if (v.isObject()) {
            List<Property> properties = new ArrayList<>();
            for (String name : v.propertyNames()) properties.add(new Property(name, keyBytes(name), constant(v.get(name))));
            if (properties.size() > 64) throw new SchemaException("a constant object may have at most 64 members");
            long all = properties.size() == 64 ? -1L : (1L << properties.size()) - 1;
            return new ObjectShape(List.copyOf(properties), all, null);
        }
        if (v.isArray()) {
            List<Shape> items = new ArrayList<>();
            for (JsonNode item : v) items.add(constant(item));
            return new ArrayShape(List.copyOf(items), null, items.size(), items.size());
        }
        if (v.isNumber() && !Double.isFinite(v.doubleValue())) throw new SchemaException("the value " + v + " is not a finite number");
        return Literals.of(List.of(COMPACT.writeValueAsBytes(v)));
    }

    private static boolean hasType(JsonNode v, JsonNode type) {
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (hasType(v, t)) return true;
            }
            return false;
        }
        String t = type.isString() ? type.stringValue() : "";
        return switch (t) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isString();
            case "number" -> v.isNumber();
            case "integer" -> v.isIntegralNumber();
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> throw new SchemaException("\"" + t + "\" is not a JSON Schema type");
        };
    }

    /** A reference inside this document ({@code #} or a JSON pointer after it), read once however often it is used. */
    private Shape ref(JsonNode ref, String path, int depth) {
        if (!ref.isString() || !ref.stringValue().startsWith("#")) {
            throw new SchemaException("at " + path + ", only references inside the schema (\"#...\") are supported");
        }
        String pointer = ref.stringValue().substring(1);
        Shape.Ref known = refs.get(pointer);
        if (known != null) return known;
        JsonNode target;
        try {
            target = pointer.isEmpty() ? root : root.at(JsonPointer.compile(pointer));
        } catch (IllegalArgumentException e) {
            throw new SchemaException("at " + path + ", the reference " + ref + " is not a JSON pointer");
        }
        if (target == null || target.isMissingNode()) throw new SchemaException("at " + path + ", the reference " + ref + " points at nothing");
        Shape.Ref r = new Shape.Ref(pointer);
        refs.put(pointer, r);
        // Counted as nesting: a chain of references is as deep as the schemas it passes through.
        r.target = shape(target, "#" + pointer, depth + 1);
        return r;
    }

    /**
     * Refuses a schema that can come back to itself without reading a byte ({@code A = anyOf[A, ...]}
     * or a reference to a reference to itself): matching it would never return.
     */
    private static void checkNoEmptyCycle(Shape shape) {
        // Every shape reachable at all, then a depth-first search over the no-byte edges alone.
        Set<Shape> all = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        java.util.ArrayDeque<Shape> todo = new java.util.ArrayDeque<>(List.of(shape));
        while (!todo.isEmpty()) {
            Shape s = todo.pop();
            if (!all.add(s)) continue;
            todo.addAll(sameStart(s));
            todo.addAll(inner(s));
        }
        // Iterative, with an explicit stack: a long chain of references must not cost the thread's stack.
        Map<Shape, Boolean> done = new IdentityHashMap<>(); // false: on the current path; true: finished
        for (Shape root : all) {
            if (done.containsKey(root)) continue;
            java.util.ArrayDeque<java.util.Iterator<Shape>> path = new java.util.ArrayDeque<>();
            java.util.ArrayDeque<Shape> onPath = new java.util.ArrayDeque<>();
            done.put(root, false);
            onPath.push(root);
            path.push(sameStart(root).iterator());
            while (!path.isEmpty()) {
                java.util.Iterator<Shape> next = path.peek();
                if (!next.hasNext()) {
                    path.pop();
                    done.put(onPath.pop(), true);
                    continue;
                }
                Shape s = next.next();
                Boolean seen = done.get(s);
                if (Boolean.FALSE.equals(seen)) {
                    throw new SchemaException("the schema refers to itself without any text in between (a left-recursive $ref)");
                }
                if (seen == null) {
                    done.put(s, false);
                    onPath.push(s);
                    path.push(sameStart(s).iterator());
                }
            }
        }
    }

    /** The shapes a value of {@code s} may begin as, with no byte read. */
    private static List<Shape> sameStart(Shape s) {
        if (s instanceof Shape.Union u) return u.options();
        if (s instanceof Shape.Ref r) return List.of(r.target);
        return List.of();
    }

    /** The shapes inside a value of {@code s}, after its first byte. */
    private static List<Shape> inner(Shape s) {
        List<Shape> out = new ArrayList<>();
        if (s instanceof ObjectShape o) {
            for (Property p : o.properties()) out.add(p.value());
            if (o.additional() != null && o.additional() != Shape.Any.INSTANCE) out.add(o.additional());
        } else if (s instanceof ArrayShape a) {
            out.addAll(a.prefix());
            if (a.items() != null && a.items() != Shape.Any.INSTANCE) out.add(a.items());
        }
        return out;
    }

    private static int count(JsonNode s, String keyword, int absent, String path) {
        JsonNode v = s.get(keyword);
        if (v == null) return absent;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw new SchemaException("at " + path + ", \"" + keyword + "\" must be a non-negative integer");
        }
        return v.intValue();
    }

    private static int indexOf(List<Property> properties, String name) {
        for (int i = 0; i < properties.size(); i++) {
            if (properties.get(i).name().equals(name)) return i;
        }
        return -1;
    }

    /** The bytes between the quotes of the name's compact JSON encoding. */
    static byte[] keyBytes(String name) {
        byte[] quoted = COMPACT.writeValueAsBytes(JsonNodeFactory.instance.stringNode(name));
        return Arrays.copyOfRange(quoted, 1, quoted.length - 1);
    }

    /** A JSON pointer segment for error paths. */
    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
