package dev.podserve.structured;

import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.podserve.sampling.TokenConstraint;
import dev.podserve.structured.Frame.ValueStart;

/**
 * What a request's output must be, ready to match: one JSON value of a shape, exactly one of fixed
 * texts, or free text whose values opened by triggers follow a grammar (tool calls in a model's own
 * format). Immutable; shared by every choice of a request, each of which gets its own matcher.
 */
public final class OutputGrammar {

    private final Shape shape;
    /** True: a JSON value (whitespace may precede it); false: the literal bytes alone. */
    private final boolean json;
    private final String description;
    /** Non-null: this grammar binds only the values these open in free text, each one of {@link #shape}. */
    private final ValueTriggers triggers;
    /** With triggers: most values; -1: no bound. */
    private final int maxValues;
    /** Non-null: a reasoning model's thinking comes first, free, and the grammar binds what follows it. */
    private final ReasoningPrelude reasoning;

    private OutputGrammar(Shape shape, boolean json, String description) {
        this(shape, json, description, null, -1, null);
    }

    private OutputGrammar(Shape shape, boolean json, String description, ValueTriggers triggers, int maxValues,
                          ReasoningPrelude reasoning) {
        this.shape = shape;
        this.json = json;
        this.description = description;
        this.triggers = triggers;
        this.maxValues = maxValues;
        this.reasoning = reasoning;
    }

    /** This grammar after a reasoning model's thinking, which is left free (see {@link ReasoningPrelude}). */
    public OutputGrammar afterReasoning(ReasoningPrelude prelude) {
        return new OutputGrammar(shape, json, description + ", after the reasoning", triggers, maxValues, prelude);
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
        return toolCallArray(parameters, "parameters", maxCalls);
    }

    /** A JSON array of one or more calls as {@link #toolCall} spells them. */
    public static OutputGrammar toolCallArray(java.util.Map<String, Shape> parameters, String argumentsKey, int maxCalls) {
        return new OutputGrammar(new Shape.ArrayShape(List.of(), callShape(parameters, argumentsKey), 1, maxCalls), true, "tool calls");
    }

    /**
     * One tool call as a JSON object: {@code "name"}, one of the functions, and {@code argumentsKey}
     * ({@code "arguments"} or {@code "parameters"}, as the model's format has it), valid under that
     * function's parameters; the two members in either order.
     */
    public static OutputGrammar toolCall(java.util.Map<String, Shape> parameters, String argumentsKey) {
        return new OutputGrammar(callShape(parameters, argumentsKey), true, "a tool call");
    }

    private static Shape callShape(java.util.Map<String, Shape> parameters, String argumentsKey) {
        if (parameters.isEmpty()) throw new IllegalArgumentException("no function");
        List<Shape> calls = new java.util.ArrayList<>();
        for (java.util.Map.Entry<String, Shape> f : parameters.entrySet()) {
            Shape name = SchemaCompiler.constant(tools.jackson.databind.node.JsonNodeFactory.instance.stringNode(f.getKey()));
            calls.add(new Shape.ObjectShape(List.of(new Shape.Property("name", SchemaCompiler.keyBytes("name"), name),
                    new Shape.Property(argumentsKey, SchemaCompiler.keyBytes(argumentsKey), f.getValue())), 0b11, null));
        }
        return calls.size() == 1 ? calls.get(0) : new Shape.Union(calls);
    }

    /**
     * Free text in which every value {@code triggers} open must be one of {@code value}'s (a JSON
     * grammar): the model decides whether and where to call a tool, and a call it starts is valid.
     *
     * @param maxValues most values; once that many have closed the output is complete. -1: no bound
     */
    public static OutputGrammar triggered(OutputGrammar value, ValueTriggers triggers, int maxValues) {
        if (!value.json || value.triggers != null || value.reasoning != null) throw new IllegalArgumentException("a triggered value must be a JSON grammar");
        if (maxValues == 0 || maxValues < -1) throw new IllegalArgumentException("maxValues " + maxValues);
        return new OutputGrammar(value.shape, true, "free text with " + value.description + " after each trigger", triggers, maxValues,
                null);
    }

    /**
     * Whether the grammar decides where the output ends (a JSON value, a choice), so that generating
     * past the end token ({@code ignore_eos}) would leave it. A triggered one leaves the end to the
     * model, except that the output is complete once its most values have closed (which ends it
     * even under {@code ignore_eos} or below {@code min_tokens}, as a closed JSON value does).
     */
    public boolean bindsEnd() {
        return triggers == null;
    }

    /** The rule one choice of a request follows: a {@link GrammarMatcher}, or a triggered one's matcher. */
    public TokenConstraint constraint(VocabularyTrie vocabulary, int[] endTokens) {
        TokenConstraint rule = triggers == null ? matcher(vocabulary, endTokens) : new TriggeredMatcher(this, triggers, vocabulary, maxValues);
        return reasoning == null ? rule : new AfterReasoning(rule, reasoning, vocabulary, endTokens);
    }

    /** A matcher of one value of this grammar that the end token may not end (a value inside free text). */
    GrammarMatcher matcherWithoutEnd(VocabularyTrie vocabulary) {
        return new GrammarMatcher(root(), vocabulary, new int[0]);
    }

    /** Exactly one of the texts, nothing around it (vLLM's {@code structured_outputs.choice}). */
    public static OutputGrammar choice(List<String> choices) {
        if (choices.isEmpty()) throw new IllegalArgumentException("no choice");
        return new OutputGrammar(Shape.Literals.of(choices.stream().map(c -> c.getBytes(StandardCharsets.UTF_8)).toList()),
                false, "one of " + choices.size() + " choices");
    }

    /** A matcher at the start of the output, for one choice of a request (not of a triggered grammar). */
    public GrammarMatcher matcher(VocabularyTrie vocabulary, int[] endTokens) {
        if (triggers != null) throw new IllegalStateException("a triggered grammar binds only its values: use constraint()");
        return new GrammarMatcher(root(), vocabulary, endTokens);
    }

    /**
     * Whether {@code text} is a whole output this grammar allows (the byte-level reference for token
     * masks); of a triggered grammar, whether it is one whole value.
     */
    public boolean matches(byte[] text) {
        Frames states = read(text);
        return states != null && states.canEnd();
    }

    /** Whether some output this grammar allows begins with {@code text}; of a triggered grammar, some value. */
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
