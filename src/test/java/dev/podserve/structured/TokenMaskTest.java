package dev.podserve.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/**
 * The vocabulary walk against the slow way (every token's bytes fed to the output so far, from the
 * start) along random generations: a random vocabulary of JSON pieces and UTF-8 fragments, tokens
 * drawn at random among those the mask allows. Every mask must equal the slow answer, and every
 * generation that ends must be valid under the reference.
 */
class TokenMaskTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final int EOS = 0;

    @Test
    void masksEqualTheSlowAnswerAndEveryEndedOutputIsValid() {
        Random rnd = new Random(SEED);
        RandomSchemas random = new RandomSchemas(rnd);
        int ended = 0;
        for (int s = 0; s < 40; s++) {
            JsonNode schema = s % 5 == 0 ? null : random.schema();
            OutputGrammar grammar = schema == null ? OutputGrammar.jsonObject()
                    : OutputGrammar.jsonSchema(SchemaCompiler.compile(schema), "random");
            byte[][] vocab = vocabulary(rnd, random, schema);
            VocabularyTrie trie = new VocabularyTrie(vocab);
            GrammarMatcher matcher = grammar.matcher(trie, new int[] {EOS});
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            long[] mask = new long[(vocab.length + 63) / 64];
            long[] walked = new long[mask.length];
            for (int step = 0; step < 300; step++) {
                matcher.allowedTokens(mask);
                matcher.allowedTokensByFullWalk(walked);
                assertThat(mask).as("fast path against the full walk, seed %d", SEED).containsExactly(walked);
                byte[] sofar = output.toByteArray();
                String where = "seed " + SEED + ", schema " + schema + ", output <" + new String(sofar, StandardCharsets.UTF_8) + ">";
                List<Integer> allowed = new ArrayList<>();
                for (int t = 0; t < vocab.length; t++) {
                    boolean slow = t == EOS ? grammar.matches(sofar) : grammar.allowsPrefix(concat(sofar, vocab[t]));
                    boolean fast = (mask[t >>> 6] & (1L << t)) != 0;
                    if (fast != slow) {
                        assertThat(fast).as("token " + t + " <" + new String(vocab[t] == null ? new byte[0] : vocab[t],
                                StandardCharsets.UTF_8) + "> at " + where).isEqualTo(slow);
                    }
                    if (fast) allowed.add(t);
                }
                assertThat(allowed).as("a live output always has a next token, " + where).isNotEmpty();
                int token = pick(rnd, allowed, vocab, step);
                matcher.accept(token);
                if (token == EOS) {
                    assertThat(SchemaReference.accepts(schema, sofar)).as("ended output is valid, " + where).isTrue();
                    assertThat(matcher.complete()).isTrue();
                    ended++;
                    break;
                }
                output.writeBytes(vocab[token]);
            }
        }
        assertThat(ended).as("seed " + SEED + ": most generations must end to check their outputs").isGreaterThan(20);
    }

    @Test
    void aTokenTheMaskRefusesIsRefusedAndLeavesTheStateAsItWas() {
        byte[][] vocab = {null, "{\"".getBytes(), "a".getBytes(), "\":".getBytes(), "1}".getBytes(), "]".getBytes()};
        GrammarMatcher m = OutputGrammar.jsonObject().matcher(new VocabularyTrie(vocab), new int[] {EOS});
        m.accept(1);
        m.accept(2);
        m.accept(3);
        assertThatThrownBy(() -> m.accept(5)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> m.accept(EOS)).hasMessageContaining("cannot end");
        m.accept(4);
        assertThat(m.complete()).as("a closed object takes nothing more").isTrue();
        long[] mask = new long[1];
        m.allowedTokens(mask);
        assertThat(mask[0]).as("only the end").isEqualTo(1L << EOS);
    }

    /**
     * Id 0 is the end; then every printable ASCII byte alone (so a generation can always go on),
     * pieces cut from valid texts of the schema, and UTF-8 characters whole and split.
     */
    private static byte[][] vocabulary(Random rnd, RandomSchemas random, JsonNode schema) {
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> tokens = new ArrayList<>();
        tokens.add(null);
        for (int b = 0x20; b < 0x7F; b++) add(tokens, seen, new byte[] {(byte) b});
        add(tokens, seen, "\n".getBytes());
        JsonNode objectSchema = tools.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", "object");
        for (int i = 0; i < 60; i++) {
            byte[] text = random.text(schema == null ? random.value(objectSchema, null, 0) : random.value(schema, schema, 0));
            for (int k = 0; k < 8 && text.length > 1; k++) {
                int from = rnd.nextInt(text.length - 1);
                int to = Math.min(text.length, from + 2 + rnd.nextInt(7));
                add(tokens, seen, java.util.Arrays.copyOfRange(text, from, to));
            }
        }
        for (String c : new String[] {"\u00e9", "\u20ac", "\ud83d\ude00", "\"}", "\"]", "}}", "]}", "\",\"", "true", "null", "\\u00"}) {
            byte[] b = c.getBytes(StandardCharsets.UTF_8);
            add(tokens, seen, b);
            if (b.length > 1) {
                add(tokens, seen, java.util.Arrays.copyOf(b, 1));
                add(tokens, seen, java.util.Arrays.copyOfRange(b, 1, b.length));
            }
        }
        return tokens.toArray(byte[][]::new);
    }

    private static void add(List<byte[]> tokens, Set<String> seen, byte[] b) {
        if (seen.add(java.util.HexFormat.of().formatHex(b))) tokens.add(b);
    }

    /** Uniform at first; later, tokens that close something (and the end) are favoured, so most generations end. */
    private static int pick(Random rnd, List<Integer> allowed, byte[][] vocab, int step) {
        if (step > 40 && allowed.contains(EOS)) return EOS;
        if (step > 20 && rnd.nextInt(3) > 0) {
            List<Integer> closing = allowed.stream().filter(t -> t != EOS && closes(vocab[t])).toList();
            if (!closing.isEmpty()) return closing.get(rnd.nextInt(closing.size()));
        }
        return allowed.get(rnd.nextInt(allowed.size()));
    }

    private static boolean closes(byte[] b) {
        for (byte x : b) {
            if (x == '}' || x == ']' || x == '"') return true;
        }
        return false;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        if (b == null) return null;
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
