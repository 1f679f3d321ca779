package dev.podserve.api;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import dev.podserve.structured.OutputGrammar;
import dev.podserve.structured.SchemaCompiler;
import dev.podserve.structured.SchemaException;
import dev.podserve.structured.Shape;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * A request's structured output, as OpenAI's {@code response_format} or vLLM's
 * {@code structured_outputs} asks for it, read into an {@link OutputGrammar}; anything malformed or
 * not enforceable is a 400 that names the field.
 *
 * <ul>
 *   <li>{@code response_format: {"type": "text"}}: free text (the default);</li>
 *   <li>{@code {"type": "json_object"}}: one JSON object;</li>
 *   <li>{@code {"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}}:
 *       JSON valid under the schema, always enforced whatever {@code strict} says;</li>
 *   <li>{@code structured_outputs: {"json": schema}}, {@code {"json_object": true}},
 *       {@code {"choice": [texts]}}: vLLM's forms; its {@code regex} and {@code grammar} are refused;</li>
 *   <li>vLLM's older top-level {@code guided_json}, {@code guided_choice} (and the refused
 *       {@code guided_regex}, {@code guided_grammar}), read as the same {@code structured_outputs}.</li>
 * </ul>
 */
final class ResponseFormats {

    /** OpenAI's rule for a schema's name. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final int MAX_CHOICES = 1024;

    private ResponseFormats() {
    }

    /** vLLM's older fields and the {@code structured_outputs} key each stands for. */
    private static final Map<String, String> GUIDED = Map.of("guided_json", "json", "guided_choice", "choice",
            "guided_regex", "regex", "guided_grammar", "grammar");

    /**
     * @param unknown the request's fields the DTO does not name, where vLLM's older {@code guided_*} ones land; may be null
     * @return null for free text
     */
    static OutputGrammar parse(Map<String, Object> responseFormat, Map<String, Object> structuredOutputs, Map<String, Object> unknown,
                               ObjectMapper json) {
        Map<String, Object> guided = new java.util.LinkedHashMap<>();
        if (unknown != null) {
            for (Map.Entry<String, String> g : GUIDED.entrySet()) {
                if (unknown.get(g.getKey()) != null) guided.put(g.getValue(), unknown.get(g.getKey()));
            }
        }
        if (!guided.isEmpty()) {
            if (structuredOutputs != null) {
                throw ApiException.badRequest("structured_outputs", "Give either structured_outputs or the older guided_* fields, not both.");
            }
            structuredOutputs = guided;
        }
        return parse(responseFormat, structuredOutputs, json);
    }

    /** @return null for free text */
    static OutputGrammar parse(Map<String, Object> responseFormat, Map<String, Object> structuredOutputs, ObjectMapper json) {
        OutputGrammar format = responseFormat(responseFormat, json);
        OutputGrammar structured = structuredOutputs(structuredOutputs, json);
        if (format != null && structured != null) {
            throw ApiException.badRequest("structured_outputs", "Give either response_format or structured_outputs, not both.");
        }
        return format != null ? format : structured;
    }

    private static OutputGrammar responseFormat(Map<String, Object> format, ObjectMapper json) {
        if (format == null) return null;
        Object type = format.get("type");
        if ("text".equals(type)) return null;
        if ("json_object".equals(type)) return OutputGrammar.jsonObject();
        if (!"json_schema".equals(type)) {
            throw ApiException.badRequest("response_format", "response_format.type must be one of \"text\", \"json_object\" and \"json_schema\"; got "
                    + (type == null ? "none" : json.writeValueAsString(type)) + ".");
        }
        if (!(format.get("json_schema") instanceof Map<?, ?> spec)) {
            throw ApiException.badRequest("response_format", "response_format.json_schema must be an object with a name and a schema.");
        }
        if (!(spec.get("name") instanceof String name) || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest("response_format",
                    "response_format.json_schema.name must be 1 to 64 letters, digits, underscores or dashes.");
        }
        if (spec.get("strict") != null && !(spec.get("strict") instanceof Boolean)) {
            throw ApiException.badRequest("response_format", "response_format.json_schema.strict must be a boolean.");
        }
        Object schema = spec.get("schema");
        // No schema: any JSON value, as OpenAI leaves it optional.
        return schema == null ? OutputGrammar.anyJson(name)
                : OutputGrammar.jsonSchema(compile(schema, "response_format.json_schema.schema", "response_format", json), name);
    }

    private static OutputGrammar structuredOutputs(Map<String, Object> so, ObjectMapper json) {
        if (so == null) return null;
        for (String unsupported : List.of("regex", "grammar", "structural_tag")) {
            if (so.get(unsupported) != null) {
                throw ApiException.badRequest("structured_outputs", "structured_outputs." + unsupported + " is not supported by this server; "
                        + "use json, json_object or choice.");
            }
        }
        long given = so.entrySet().stream().filter(e -> e.getValue() != null && List.of("json", "json_object", "choice").contains(e.getKey())).count();
        if (given != 1) {
            throw ApiException.badRequest("structured_outputs", "structured_outputs must set exactly one of json, json_object and choice.");
        }
        if (so.get("json") != null) {
            Object schema = so.get("json");
            if (schema instanceof String text) {
                // vLLM takes the schema as JSON text too.
                try {
                    schema = json.readValue(text, Object.class);
                } catch (RuntimeException e) {
                    throw ApiException.badRequest("structured_outputs", "structured_outputs.json is not valid JSON: " + e.getMessage());
                }
            }
            return OutputGrammar.jsonSchema(compile(schema, "structured_outputs.json", "structured_outputs", json), "structured_outputs");
        }
        if (so.get("json_object") != null) {
            if (!Boolean.TRUE.equals(so.get("json_object"))) {
                throw ApiException.badRequest("structured_outputs", "structured_outputs.json_object must be true.");
            }
            return OutputGrammar.jsonObject();
        }
        if (!(so.get("choice") instanceof List<?> choices) || choices.isEmpty() || choices.size() > MAX_CHOICES
                || !choices.stream().allMatch(c -> c instanceof String s && !s.isEmpty())) {
            throw ApiException.badRequest("structured_outputs",
                    "structured_outputs.choice must be a list of 1 to " + MAX_CHOICES + " non-empty strings.");
        }
        return OutputGrammar.choice(choices.stream().map(String.class::cast).toList());
    }

    /** The schema compiled; what is malformed or not enforceable is a 400 on {@code param}: "Invalid {@code where}: ...". */
    static Shape compile(Object schema, String where, String param, ObjectMapper json) {
        JsonNode node = json.valueToTree(schema);
        try {
            return SchemaCompiler.compile(node);
        } catch (SchemaException e) {
            throw ApiException.badRequest(param, "Invalid " + where + ": " + e.getMessage() + ".");
        } catch (StackOverflowError e) {
            // The compiler bounds its own nesting; this guards what it did not foresee, on a request thread.
            throw ApiException.badRequest(param, "Invalid " + where + ": the schema nests too deeply.");
        }
    }
}
