package dev.podserve.structured;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/**
 * The recognizer against the slow reference (strict parser plus tree validator) on fresh random
 * schemas, valid texts and texts one edit away from valid: both must say the same of every text,
 * and every prefix of a valid text must leave the recognizer alive.
 */
class GrammarReferenceTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());

    @Test
    void agreesWithTheReferenceOnRandomSchemasAndEdits() {
        Random rnd = new Random(SEED);
        RandomSchemas random = new RandomSchemas(rnd);
        int accepted = 0;
        int refused = 0;
        for (int s = 0; s < 300; s++) {
            JsonNode schema = random.schema();
            OutputGrammar grammar = OutputGrammar.jsonSchema(SchemaCompiler.compile(schema), "random");
            for (int v = 0; v < 8; v++) {
                byte[] text = random.text(random.value(schema, schema, 0));
                String where = "seed " + SEED + ", schema " + schema + ", text " + show(text);
                assertThat(SchemaReference.accepts(schema, text)).as("the generator's own value, " + where).isTrue();
                assertThat(grammar.matches(text)).as(where).isTrue();
                for (int cut = 0; cut <= text.length; cut++) {
                    assertThat(grammar.allowsPrefix(Arrays.copyOf(text, cut))).as("prefix " + cut + " of " + where).isTrue();
                }
                for (int e = 0; e < 12; e++) {
                    byte[] edited = random.edit(text);
                    boolean expected = SchemaReference.accepts(schema, edited);
                    assertThat(grammar.matches(edited)).as("seed " + SEED + ", schema " + schema + ", text " + show(edited))
                            .isEqualTo(expected);
                    if (expected) accepted++;
                    else refused++;
                }
            }
        }
        // The edits must exercise both answers, or the comparison proves little.
        assertThat(accepted).isGreaterThan(500);
        assertThat(refused).isGreaterThan(5000);
    }

    @Test
    void jsonObjectAgreesWithTheReference() {
        Random rnd = new Random(SEED + 1);
        RandomSchemas random = new RandomSchemas(rnd);
        OutputGrammar grammar = OutputGrammar.jsonObject();
        for (int i = 0; i < 2000; i++) {
            byte[] text = random.text(random.value(tools.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", "object"), null, 0));
            assertThat(grammar.matches(text)).as("seed " + SEED + ": " + show(text)).isTrue();
            byte[] edited = random.edit(text);
            assertThat(grammar.matches(edited)).as("seed " + SEED + ": " + show(edited)).isEqualTo(SchemaReference.accepts(null, edited));
        }
    }

    private static String show(byte[] text) {
        return "<" + new String(text, StandardCharsets.UTF_8) + ">";
    }
}
