package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import dev.podserve.structured.OutputGrammar;
import dev.podserve.structured.Shape;
import dev.podserve.tokenizer.HfTokenizer;

import tools.jackson.databind.ObjectMapper;

/**
 * A chat request's {@code tools} and {@code tool_choice}, read into what the answer must be.
 * Tool calls are enforced as a structured output, so they do not depend on a model's own
 * tool-call format:
 * <ul>
 *   <li>a named function ({@code {"type": "function", "function": {"name": ...}}}): the answer is
 *       that function's arguments, JSON valid under its {@code parameters};</li>
 *   <li>{@code "required"}: a JSON array of one or more {@code {"name", "parameters"}} calls, each
 *       valid under the parameters of the function it names (vLLM's form);</li>
 *   <li>{@code "auto"} (the default when tools are given): the model answers in text or calls
 *       tools in its own {@link ToolCallFormat}, read back from its text; from the point a call
 *       opens until its JSON closes the call is bound to the tools' names and parameters, so a call
 *       the model starts is a valid one. A format of XML calls ({@link ToolCallFormat#xml()}) has no
 *       JSON to bind, and Mistral v11's ({@link ToolCallFormat#argumentsMarker()}) writes its name as
 *       plain text no JSON grammar describes: their calls are read back, unconstrained, as vLLM reads
 *       them ({@link ToolCallFormat#bound()}). A model whose
 *       format is not known gets a 400;</li>
 *   <li>{@code "none"}: free text; the tools still reach the chat template.</li>
 * </ul>
 */
final class ToolChoices {

    /** OpenAI's rule for a function's name. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final int MAX_TOOLS = 128;

    enum Mode { NONE, NAMED, REQUIRED, AUTO }

    /**
     * @param tools    the tools as the chat template receives them (null: none given)
     * @param function the forced function's name (NAMED)
     * @param grammar  what the answer must be, or the calls in it (AUTO); null for NONE, and for AUTO in a
     *                 format no grammar binds ({@link ToolCallFormat#bound()})
     * @param format   how the answer's calls are read back (AUTO: the model's own way; REQUIRED: the array)
     * @param maxCalls the most calls read back (1 for {@code parallel_tool_calls: false}); -1: any number
     * @param shortIds whether call ids are Mistral's 9 letters and digits (the served model's templates
     *                 take back no other in the next turn), for every mode's calls, a named one's too
     */
    record Plan(Mode mode, List<Map<String, Object>> tools, String function, OutputGrammar grammar, ToolCallFormat format,
                int maxCalls, boolean shortIds) {

        static final Plan FREE = new Plan(Mode.NONE, null, null, null, null);

        Plan(Mode mode, List<Map<String, Object>> tools, String function, OutputGrammar grammar, ToolCallFormat format) {
            this(mode, tools, function, grammar, format, -1);
        }

        Plan(Mode mode, List<Map<String, Object>> tools, String function, OutputGrammar grammar, ToolCallFormat format,
             int maxCalls) {
            this(mode, tools, function, grammar, format, maxCalls, format != null && format.shortIds());
        }

        /** A new id for one of this answer's calls, in the shape the served model's template takes back. */
        String newCallId() {
            return shortIds ? ToolCallAnswers.newShortId() : ToolCallAnswers.newId();
        }

        /**
         * A reader of one answer's calls in {@link #format}. An XML call's values are typed by the
         * tools' schemas; where no grammar binds the calls (XML ones, Mistral v11's) and so none ends
         * the answer after the last call allowed, the reader does.
         */
        CallReader reader() {
            if (format.xml()) return new XmlCallText(format, tools, maxCalls);
            return format.argumentsMarker() != null ? new MistralCallText(format, maxCalls) : new ToolCallText(format);
        }

        /** Whether a call is forced: the whole answer is one. */
        boolean calls() {
            return mode == Mode.NAMED || mode == Mode.REQUIRED;
        }
    }

    private ToolChoices() {
    }

    /**
     * @param parallel OpenAI's {@code parallel_tool_calls}: false allows one call only; null: true
     * @param format   how the served model writes tool calls, for {@code "auto"}; null: not known
     */
    static Plan parse(Object tools, Object toolChoice, Object parallel, ObjectMapper json, ToolCallFormat format,
                      HfTokenizer tokenizer) {
        if (parallel != null && !(parallel instanceof Boolean)) {
            throw ApiException.badRequest("parallel_tool_calls", "parallel_tool_calls must be a boolean.");
        }
        List<Map<String, Object>> list = tools(tools);
        if (list == null) {
            if (toolChoice != null && !"none".equals(toolChoice)) {
                throw ApiException.badRequest("tool_choice", "tool_choice needs tools: the request lists none.");
            }
            return Plan.FREE;
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            Map<String, Object> f = function(list.get(i), i);
            String name = (String) f.get("name");
            if (parameters.containsKey(name)) throw ApiException.badRequest("tools", "Two tools are named '" + name + "'.");
            parameters.put(name, f.get("parameters"));
        }
        // Every function's parameters are checked whatever the choice: tools a request sends must be valid ones.
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, Object> p : parameters.entrySet()) shapes.put(p.getKey(), compile(p.getKey(), p.getValue(), json));
        Object choice = toolChoice == null ? "auto" : toolChoice;
        int maxCalls = Boolean.FALSE.equals(parallel) ? 1 : -1;
        if ("none".equals(choice)) return new Plan(Mode.NONE, list, null, null, null);
        if ("auto".equals(choice)) {
            if (format == null) {
                throw ApiException.badRequest("tool_choice", "tool_choice \"auto\" (the default when tools are given) reads the "
                        + "model's own tool calls, and this model's format is not known (set podserve.model.tool-call-format to "
                        + "hermes, llama3_json, mistral, mistral_v11 or qwen3_coder if it writes one of them); set tool_choice to \"required\", to "
                        + "{\"type\": \"function\", \"function\": {\"name\": ...}}, or to \"none\".");
            }
            if (!format.bound()) {
                // XML values are plain text, typed only when read, and a v11 call's name is no JSON: no grammar binds
                // the call, as none binds it in vLLM.
                return new Plan(Mode.AUTO, list, null, null, format, maxCalls);
            }
            OutputGrammar call = format.array() ? OutputGrammar.toolCallArray(shapes, format.argumentsKey(), maxCalls)
                    : OutputGrammar.toolCall(shapes, format.argumentsKey());
            // An array holds all its calls (bounded by the array); one call per opener otherwise.
            int values = format.array() ? 1 : maxCalls;
            return new Plan(Mode.AUTO, list, null, OutputGrammar.triggered(call, format.triggers(tokenizer), values), format);
        }
        if ("required".equals(choice)) {
            return new Plan(Mode.REQUIRED, list, null, OutputGrammar.toolCalls(shapes, maxCalls), ToolCallFormat.required(format));
        }
        if (choice instanceof Map<?, ?> named && "function".equals(named.get("type"))
                && named.get("function") instanceof Map<?, ?> fn && fn.get("name") instanceof String name) {
            if (!parameters.containsKey(name)) {
                throw ApiException.badRequest("tool_choice", "tool_choice names the function '" + name + "', which tools does not list.");
            }
            // No format reads a named call back (the whole answer is its arguments), but its id is the model's kind.
            return new Plan(Mode.NAMED, list, name, OutputGrammar.jsonSchema(shapes.get(name), name), null, -1,
                    format != null && format.shortIds());
        }
        throw ApiException.badRequest("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or "
                + "{\"type\": \"function\", \"function\": {\"name\": ...}}.");
    }

    /** The tools as plain maps, or null for none (absent or an empty list). */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> tools(Object tools) {
        if (tools == null || (tools instanceof List<?> l && l.isEmpty())) return null;
        if (!(tools instanceof List<?> l) || l.size() > MAX_TOOLS || !l.stream().allMatch(t -> t instanceof Map<?, ?>)) {
            throw ApiException.badRequest("tools", "tools must be a list of at most " + MAX_TOOLS + " tool objects.");
        }
        return new ArrayList<>((List<Map<String, Object>>) l);
    }

    /** tools[i].function, checked: a name, an optional description, optional parameters (a JSON Schema object). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> function(Map<String, Object> tool, int i) {
        if (!"function".equals(tool.get("type")) || !(tool.get("function") instanceof Map<?, ?> f)) {
            throw ApiException.badRequest("tools", "tools[" + i + "] must be {\"type\": \"function\", \"function\": {...}}.");
        }
        if (!(f.get("name") instanceof String name) || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest("tools", "tools[" + i + "].function.name must be 1 to 64 letters, digits, underscores or dashes.");
        }
        Object params = f.get("parameters");
        if (params != null && !(params instanceof Map<?, ?>)) {
            throw ApiException.badRequest("tools", "tools[" + i + "].function.parameters must be a JSON Schema object.");
        }
        return (Map<String, Object>) f;
    }

    /**
     * A function's parameters: an object schema, as OpenAI requires (one that names no type is read
     * as an object); none given: an object with no members, as OpenAI reads an omitted one.
     */
    @SuppressWarnings("unchecked")
    private static Shape compile(String function, Object parameters, ObjectMapper json) {
        Map<String, Object> schema = parameters != null ? new LinkedHashMap<>((Map<String, Object>) parameters)
                : new LinkedHashMap<>(Map.of("type", "object", "properties", Map.of(), "additionalProperties", false));
        Object type = schema.putIfAbsent("type", "object");
        if (type != null && !"object".equals(type)) {
            throw ApiException.badRequest("tools", "The parameters of the function '" + function + "' must be an object schema; "
                    + "its type is " + json.writeValueAsString(type) + ".");
        }
        return ResponseFormats.compile(schema, "parameters of the function '" + function + "'", "tools", json);
    }
}
