package dev.podserve.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.json.JsonMapper;

/** Hand-picked texts each grammar must take or refuse, whole and as prefixes. */
class OutputGrammarTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static OutputGrammar schema(String schema) {
        return OutputGrammar.jsonSchema(SchemaCompiler.compile(JSON.readTree(schema)), "test");
    }

    private static boolean matches(OutputGrammar g, String text) {
        return g.matches(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void jsonObjectTakesAnyObjectAndNothingElse() {
        OutputGrammar g = OutputGrammar.jsonObject();
        for (String ok : List.of("{}", " {\"a\":1}", "{\"a\": [1, \"x\", null, true, false, {\"b\": -0.5e+10}], \"c\": {}}",
                "{\n  \"k\": \"\\u00e9\\n\\\"q\\\"\",\n  \"z\": 0}", "{\"caf\u00e9\":\"\ud83d\ude00\"}", "{\"s\":\"\\ud83d\\ude00\"}")) {
            assertThat(matches(g, ok)).as(ok).isTrue();
        }
        for (String bad : List.of("", "[]", "1", "\"s\"", "{\"a\":}", "{\"a\":1,}", "{a:1}", "{\"a\":01}", "{\"a\":1} ", "{\"a\":1}x",
                "{\"a\":tru}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\ud83dx\"}",
                "{\"a\":\"\u0001\"}", "{" + " ".repeat(21) + "}",
                "{\"a\":1,\"b\":2,\"a\":3}", "{\"\":{\"x\":1,\"x\":1}}")) {
            assertThat(matches(g, bad)).as(bad).isFalse();
        }
        assertThat(matches(g, "{" + " ".repeat(20) + "}")).isTrue();
        assertThat(g.allowsPrefix("{\"a\": [1, {\"b\"".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(g.allowsPrefix("{\"a\": ]".getBytes(StandardCharsets.UTF_8))).isFalse();
    }

    @Test
    void utf8InsideStringsMustBeWellFormed() {
        OutputGrammar g = OutputGrammar.jsonObject();
        byte[][] bad = {
                {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'}, // overlong NUL
                {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, // a surrogate in UTF-8
                {'{', '"', 'a', '"', ':', '"', (byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80, '"', '}'}, // past U+10FFFF
                {'{', '"', 'a', '"', ':', '"', (byte) 0xE2, (byte) 0x82, '"', '}'}, // cut short
        };
        for (byte[] b : bad) assertThat(g.matches(b)).isFalse();
        assertThat(g.matches("{\"a\":\"\u20ac\uD800\uDC00\"}".getBytes(StandardCharsets.UTF_8))).isTrue();
        // A character split across tokens: the prefix that stops inside it is still alive.
        assertThat(g.allowsPrefix(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xE2, (byte) 0x82})).isTrue();
    }

    @Test
    void objectSchemasEnforceNamesRequiredAndNoRepeats() {
        OutputGrammar g = schema("""
                {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                 "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name", "age"]}""");
        assertThat(matches(g, "{\"name\":\"x\",\"age\":3}")).isTrue();
        assertThat(matches(g, "{\"age\": 3, \"tags\": [\"a\"], \"name\": \"x\"}")).as("any order").isTrue();
        assertThat(matches(g, "{\"name\":\"x\"}")).as("age required").isFalse();
        assertThat(matches(g, "{\"name\":\"x\",\"age\":3.5}")).as("integer").isFalse();
        assertThat(matches(g, "{\"name\":\"x\",\"age\":3,\"other\":1}")).as("no other names").isFalse();
        assertThat(matches(g, "{\"name\":\"x\",\"age\":3,\"age\":4}")).as("no repeats").isFalse();
        assertThat(matches(g, "{\"name\":\"x\",\"age\":3,\"tags\":[1]}")).isFalse();
        assertThat(matches(g, "{\"nam\":\"x\",\"age\":3}")).isFalse();
    }

    @Test
    void additionalPropertiesSchemaAppliesToOtherNamesOnly() {
        OutputGrammar g = schema("""
                {"type": "object", "properties": {"id": {"type": "integer"}}, "additionalProperties": {"type": "boolean"}}""");
        assertThat(matches(g, "{\"id\":1,\"x\":true,\"idx\":false}")).isTrue();
        assertThat(matches(g, "{\"id\":true}")).as("id keeps its own shape").isFalse();
        assertThat(matches(g, "{\"x\":1}")).isFalse();
        assertThat(matches(g, "{\"id\":1,\"id\":2}")).as("no repeats even with other names allowed").isFalse();
    }

    @Test
    void valuesListsUnionsAndArraysBounds() {
        OutputGrammar colors = schema("{\"enum\": [\"red\", \"green\", 1, 12, null, {\"a\": [1]}]}");
        for (String ok : List.of("\"red\"", "\"green\"", "1", "12", "null", "{\"a\":[1]}", "{ \"a\" : [ 1 ] }", "  12")) {
            assertThat(matches(colors, ok)).as(ok).isTrue();
        }
        for (String bad : List.of("\"blue\"", "123", "2", "\"red", "1.0", "{\"a\":[1,2]}", "{\"a\":[1],\"b\":1}", "{}")) assertThat(matches(colors, bad)).as(bad).isFalse();

        OutputGrammar either = schema("{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"number\"}, {\"type\": \"string\", \"maxLength\": 2}]}");
        assertThat(matches(either, "5")).isTrue();
        assertThat(matches(either, "5.5")).isTrue();
        assertThat(matches(either, "\"ab\"")).isTrue();
        assertThat(matches(either, "\"abc\"")).isFalse();

        OutputGrammar tuple = schema("""
                {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": false, "minItems": 1}""");
        assertThat(matches(tuple, "[\"a\"]")).isTrue();
        assertThat(matches(tuple, "[\"a\", true]")).isTrue();
        assertThat(matches(tuple, "[]")).isFalse();
        assertThat(matches(tuple, "[\"a\", true, 1]")).isFalse();
        assertThat(matches(tuple, "[true]")).isFalse();

        OutputGrammar bounded = schema("{\"type\": \"array\", \"items\": {\"type\": \"null\"}, \"minItems\": 2, \"maxItems\": 3}");
        assertThat(matches(bounded, "[null]")).isFalse();
        assertThat(matches(bounded, "[null,null]")).isTrue();
        assertThat(matches(bounded, "[null,null,null]")).isTrue();
        assertThat(matches(bounded, "[null,null,null,null]")).isFalse();
    }

    @Test
    void stringLengthsCountCharactersNotBytes() {
        OutputGrammar g = schema("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}");
        assertThat(matches(g, "\"a\"")).isFalse();
        assertThat(matches(g, "\"ab\"")).isTrue();
        assertThat(matches(g, "\"\u20ac\u20ac\u20ac\"")).as("three 3-byte characters").isTrue();
        assertThat(matches(g, "\"\\n\\u0041\\ud83d\\ude00\"")).as("escapes, a pair counted once").isTrue();
        assertThat(matches(g, "\"abcd\"")).isFalse();
    }

    @Test
    void recursiveReferencesMatchTrees() {
        OutputGrammar tree = schema("""
                {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                  "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}},
                 "$ref": "#/$defs/node"}""");
        assertThat(matches(tree, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":4,\"kids\":[]}]}]}")).isTrue();
        assertThat(matches(tree, "{\"v\":1,\"kids\":[{\"kids\":[]}]}")).isFalse();
    }

    @Test
    void numbersFollowJsonAndTheDigitBounds() {
        OutputGrammar n = schema("{\"type\": \"number\"}");
        for (String ok : List.of("0", "-0", "10", "0.25", "-1.5E-3", "2e+5", "9".repeat(20), "1." + "0".repeat(20), "1e999")) {
            assertThat(matches(n, ok)).as(ok).isTrue();
        }
        for (String bad : List.of("01", "-", "1.", ".5", "1e", "+1", "9".repeat(21), "1e1000", "NaN", "Infinity")) {
            assertThat(matches(n, bad)).as(bad).isFalse();
        }
        OutputGrammar i = schema("{\"type\": \"integer\"}");
        assertThat(matches(i, "-42")).isTrue();
        assertThat(matches(i, "4.0")).isFalse();
        assertThat(matches(i, "4e1")).isFalse();
    }

    /**
     * A member name has one spelling, so names told apart by their bytes are told apart as text: no
     * {@code \/}, no {@code \}{@code u} escape but the control characters' upper-case ones.
     */
    @Test
    void memberNamesHaveOneSpelling() {
        OutputGrammar any = OutputGrammar.jsonObject();
        assertThat(matches(any, "{\"a\":1,\"\\u0061\":2}")).as("a second a, escaped").isFalse();
        assertThat(matches(any, "{\"a\\/b\":1}")).isFalse();
        assertThat(matches(any, "{\"a/b\":1,\"\\n\\u001F\\u0000\":2}")).isTrue();
        assertThat(matches(any, "{\"\\u001f\":1}")).as("lower-case hex").isFalse();
        assertThat(matches(any, "{\"\\u0008\":1}")).as("has a short escape").isFalse();
        assertThat(matches(any, "{\"k\":\"\\u0061\\/\"}")).as("values may escape anything").isTrue();
        OutputGrammar typed = schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"additionalProperties\":true}");
        assertThat(matches(typed, "{\"\\u0061\":\"x\"}")).as("a by another spelling, past its shape").isFalse();
        OutputGrammar control = schema("{\"type\":\"object\",\"properties\":{\"x\\u001Fy\":{\"type\":\"null\"}},\"required\":[\"x\\u001Fy\"]}");
        assertThat(matches(control, "{\"x\\u001Fy\":null}")).as("a listed name with a control character").isTrue();
    }

    /**
     * Nesting deeper than {@value Frame#MAX_NESTING} is refused, and deep nesting under a union
     * whose branches stay apart costs no stack: states are compared link by link. Run on a thread
     * with a small stack, where a recursive comparison overflowed at a few thousand levels.
     */
    @Test
    void deepNestingIsBoundedAndCostsNoStack() throws Exception {
        OutputGrammar g = schema("{\"anyOf\":[{\"type\":\"array\"},{\"type\":\"array\",\"minItems\":1}]}");
        java.util.concurrent.atomic.AtomicReference<Throwable> error = new java.util.concurrent.atomic.AtomicReference<>();
        boolean[] results = new boolean[3];
        Thread t = new Thread(null, () -> {
            try {
                results[0] = g.allowsPrefix("[".repeat(Frame.MAX_NESTING).getBytes(StandardCharsets.US_ASCII));
                results[1] = g.allowsPrefix("[".repeat(Frame.MAX_NESTING + 1).getBytes(StandardCharsets.US_ASCII));
                results[2] = OutputGrammar.jsonObject().allowsPrefix(("{\"a\":" + "[".repeat(Frame.MAX_NESTING)).getBytes(StandardCharsets.US_ASCII));
            } catch (Throwable e) {
                error.set(e);
            }
        }, "small-stack", 256 << 10);
        t.start();
        t.join();
        assertThat(error.get()).isNull();
        assertThat(results).containsExactly(true, false, false);
    }

    @Test
    void choicesAreRawTexts() {
        OutputGrammar g = OutputGrammar.choice(List.of("yes", "no", "yes, but"));
        assertThat(matches(g, "yes")).isTrue();
        assertThat(matches(g, "yes, but")).isTrue();
        assertThat(matches(g, "\"yes\"")).isFalse();
        assertThat(matches(g, " no")).isFalse();
        assertThat(matches(g, "yes,")).isFalse();
    }

    /** A long chain of references is refused as too deep, on a small stack, not overflowed. */
    @Test
    void longReferenceChainsAreRefusedNotOverflowed() throws Exception {
        StringBuilder defs = new StringBuilder("{\"$defs\": {");
        int n = 5000;
        for (int i = 0; i < n; i++) defs.append(i == 0 ? "" : ",").append("\"d").append(i).append("\": {\"$ref\": \"#/$defs/d").append(i + 1).append("\"}");
        defs.append(",\"d").append(n).append("\": {\"type\": \"null\"}}, \"$ref\": \"#/$defs/d0\"}");
        java.util.concurrent.atomic.AtomicReference<Throwable> error = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                schema(defs.toString());
            } catch (Throwable e) {
                error.set(e);
            }
        }, "small-stack", 512 << 10);
        t.start();
        t.join();
        assertThat(error.get()).isInstanceOf(SchemaException.class).hasMessageContaining("deeper than");
        // A short chain is fine.
        assertThat(matches(schema("{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"}, \"b\": {\"type\": \"null\"}}, \"$ref\": \"#/$defs/a\"}"), "null")).isTrue();
    }

    @Test
    void schemasTheServerCannotEnforceAreRefusedByName() {
        assertThatThrownBy(() -> schema("{\"type\": \"string\", \"pattern\": \"^a\"}")).isInstanceOf(SchemaException.class)
                .hasMessageContaining("\"pattern\"");
        assertThatThrownBy(() -> schema("{\"type\": \"integer\", \"minimum\": 0}")).hasMessageContaining("\"minimum\"");
        assertThatThrownBy(() -> schema("{\"type\": \"object\", \"properties\": {}, \"required\": [\"a\"]}"))
                .hasMessageContaining("required property \"a\"");
        assertThatThrownBy(() -> schema("{\"$defs\": {\"a\": {\"anyOf\": [{\"$ref\": \"#/$defs/a\"}, {\"type\": \"null\"}]}}, \"$ref\": \"#/$defs/a\"}"))
                .hasMessageContaining("left-recursive");
        assertThatThrownBy(() -> schema("{\"$ref\": \"#/$defs/missing\"}")).hasMessageContaining("points at nothing");
        assertThatThrownBy(() -> schema("{\"$ref\": \"https://example.com/s.json\"}")).hasMessageContaining("inside the schema");
        assertThatThrownBy(() -> schema("false")).hasMessageContaining("no value matches");
        assertThatThrownBy(() -> schema("{\"type\": \"string\", \"enum\": [\"a\", 1]}")).hasMessageContaining("not of the schema's type");
        assertThatThrownBy(() -> schema("{\"type\": \"array\", \"items\": false, \"minItems\": 1}")).hasMessageContaining("cannot be met");
        assertThatThrownBy(() -> schema("{\"type\": \"strin\"}")).hasMessageContaining("not a JSON Schema type");
        assertThatThrownBy(() -> schema("{\"enum\": [1e400]}")).hasMessageContaining("not a finite number");
        assertThatThrownBy(() -> schema("{\"const\": {\"a\": [-1e400]}}")).hasMessageContaining("not a finite number");
        assertThatThrownBy(() -> schema("{\"type\": \"string\", \"anyOf\": [{\"maxLength\": 1}]}")).hasMessageContaining("cannot be combined");
        StringBuilder many = new StringBuilder("{\"type\": \"object\", \"properties\": {");
        for (int i = 0; i < 65; i++) many.append(i == 0 ? "" : ",").append("\"p").append(i).append("\": {}");
        assertThatThrownBy(() -> schema(many.append("}}").toString())).hasMessageContaining("at most 64");
        // Annotations are read past.
        assertThat(matches(schema("{\"title\": \"T\", \"description\": \"d\", \"type\": \"string\", \"format\": \"date-time\"}"), "\"x\"")).isTrue();
    }
}
