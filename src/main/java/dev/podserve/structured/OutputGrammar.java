package dev.podserve.structured;

import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.podserve.structured.Frame.ValueStart;

/**
 * What a request's output must be, ready to match: one JSON value of a shape, or exactly one of
 * fixed texts. Immutable; shared by every choice of a request, each of which gets its own
 * {@link GrammarMatcher}.
 */
public final class OutputGrammar {

    private final Shape shape;
    /** True: a JSON value (whitespace may precede it); false: the literal bytes alone. */
    private final boolean json;
    private final String description;

    private OutputGrammar(Shape shape, boolean json, String description) {
        this.shape = shape;
        this.json = json;
        this.description = description;
    }

    /** Any JSON object ({@code response_format: {"type": "json_object"}}). */
    public static OutputGrammar jsonObject() {
        return new OutputGrammar(Shape.ObjectShape.FREE, true, "a JSON object");
    }

    /** Any one JSON value ({@code json_schema} without a schema). */
    public static OutputGrammar anyJson(String name) {
        return new OutputGrammar(Shape.Any.INSTANCE, true, "any JSON value (" + name + ")");
    }

    /** A JSON value matching the schema ({@code response_format: {"type": "json_schema"}}). */
    public static OutputGrammar jsonSchema(Shape shape, String name) {
        return new OutputGrammar(shape, true, "JSON matching the schema " + name);
    }

    /**
     * One or more tool calls as a JSON array, each {@code {"name": ..., "parameters": ...}} with the
     * parameters of the function it names ({@code tool_choice: "required"}, as vLLM asks for them).
     *
     * @param parameters each function's name and the shape of its parameters, in the request's order
     * @param maxCalls   most calls in the array; -1: no bound
     */
    public static OutputGrammar toolCalls(java.util.Map<String, Shape> parameters, int maxCalls) {
        if (parameters.isEmpty()) throw new IllegalArgumentException("no function");
        List<Shape> calls = new java.util.ArrayList<>();
        for (java.util.Map.Entry<String, Shape> f : parameters.entrySet()) {
            Shape name = SchemaCompiler.constant(tools.jackson.databind.node.JsonNodeFactory.instance.stringNode(f.getKey()));
            calls.add(new Shape.ObjectShape(List.of(new Shape.Property("name", SchemaCompiler.keyBytes("name"), name),
                    new Shape.Property("parameters", SchemaCompiler.keyBytes("parameters"), f.getValue())), 0b11, null));
        }
        Shape item = calls.size() == 1 ? calls.get(0) : new Shape.Union(calls);
        return new OutputGrammar(new Shape.ArrayShape(List.of(), item, 1, maxCalls), true, "tool calls");
    }

    /** Exactly one of the texts, nothing around it (vLLM's {@code structured_outputs.choice}). */
    public static OutputGrammar choice(List<String> choices) {
        if (choices.isEmpty()) throw new IllegalArgumentException("no choice");
        return new OutputGrammar(Shape.Literals.of(choices.stream().map(c -> c.getBytes(StandardCharsets.UTF_8)).toList()),
                false, "one of " + choices.size() + " choices");
    }

    /** A matcher at the start of the output, for one choice of a request. */
    public GrammarMatcher matcher(VocabularyTrie vocabulary, int[] endTokens) {
        return new GrammarMatcher(root(), vocabulary, endTokens);
    }

    /** Whether {@code text} is a whole output this grammar allows (the byte-level reference for token masks). */
    public boolean matches(byte[] text) {
        Frames states = read(text);
        return states != null && states.canEnd();
    }

    /** Whether some output this grammar allows begins with {@code text}. */
    public boolean allowsPrefix(byte[] text) {
        return read(text) != null;
    }

    /** The states after {@code text}, or null where a byte of it was refused. */
    private Frames read(byte[] text) {
        Frames states = new Frames();
        states.add(root());
        Frames next = new Frames();
        for (byte b : text) {
            states.step(b & 0xFF, next);
            if (next.isEmpty()) return null;
            Frames t = states;
            states = next;
            next = t;
        }
        return states;
    }

    private Frame root() {
        if (json) return new ValueStart(shape, Frame.Done.INSTANCE, 0);
        Shape.Literals choices = (Shape.Literals) shape;
        return new Frame.LiteralFrame(choices, 0, choices.values.length, 0, Frame.Done.INSTANCE);
    }

    @Override
    public String toString() {
        return description;
    }
}
