package dev.podserve.structured;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Tool calls inside free text ({@code tool_choice: "auto"}) along random generations, against a
 * slow reference that reads the whole output again at every step: where it is inside a call, and
 * that call's bytes so far, from the trigger texts and trigger token alone; then which tokens may
 * follow from {@link OutputGrammar#allowsPrefix} on those bytes. Between calls nothing may be
 * restricted; inside one the mask must equal the reference and the full walk; every call that
 * closes must name a function and be valid under its random parameters.
 */
class TriggeredMatcherTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final int EOS = 0;
    /** A special token that opens a call by id, as {@code <|python_tag|>} does. */
    private static final int TRIGGER_TOKEN = 1;
    private static final String OPENER = "<tool_call>";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void masksEqualTheReferenceAndEveryClosedCallIsValid() {
        Random rnd = new Random(SEED);
        RandomSchemas random = new RandomSchemas(rnd);
        int closed = 0;
        for (int g = 0; g < 20; g++) {
            Map<String, JsonNode> schemas = new LinkedHashMap<>();
            Map<String, Shape> shapes = new LinkedHashMap<>();
            for (int f = 0; f < 1 + rnd.nextInt(3); f++) {
                ObjectNode s = random.schema();
                schemas.put("fn" + f, s);
                shapes.put("fn" + f, SchemaCompiler.compile(s));
            }
            OutputGrammar body = OutputGrammar.toolCall(shapes, "arguments");
            int maxValues = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(2) : -1;
            ValueTriggers triggers = new ValueTriggers(List.of(OPENER.getBytes(StandardCharsets.UTF_8)), new int[] {TRIGGER_TOKEN},
                    false, null);
            byte[][] vocab = vocabulary(rnd, random, schemas);
            VocabularyTrie trie = new VocabularyTrie(vocab);
            TriggeredMatcher m = (TriggeredMatcher) OutputGrammar.triggered(body, triggers, maxValues).constraint(trie, new int[] {EOS});
            Reference ref = new Reference(vocab, body);
            long[] mask = new long[(vocab.length + 63) / 64];
            long[] walked = new long[mask.length];
            for (int step = 0; step < 300 && !m.complete(); step++) {
                String where = "seed " + SEED + ", functions " + schemas + ", output <" + ref.text() + ">";
                assertThat(m.restrictsNext()).as("inside a call exactly where the reference is, " + where).isEqualTo(ref.value != null);
                assertThat(m.values()).as(where).isEqualTo(ref.values());
                int token;
                if (ref.value == null) {
                    token = pickFree(rnd, vocab, step);
                } else {
                    m.allowedTokens(mask);
                    m.allowedTokensByFullWalk(walked);
                    assertThat(mask).as("fast path against the full walk, " + where).containsExactly(walked);
                    List<Integer> allowed = new ArrayList<>();
                    for (int t = 0; t < vocab.length; t++) {
                        boolean slow = vocab[t] != null && body.allowsPrefix(concat(ref.value, vocab[t]));
                        boolean fast = (mask[t >>> 6] & (1L << t)) != 0;
                        if (fast != slow) assertThat(fast).as("token %d <%s> at %s", t, text(vocab[t]), where).isEqualTo(slow);
                        if (fast) allowed.add(t);
                    }
                    assertThat(allowed).as("an open call always has a next token, " + where).isNotEmpty();
                    token = pickInValue(rnd, allowed, vocab, step);
                }
                m.accept(token);
                ref.accept(token);
                if (token == EOS) break;
            }
            assertThat(m.values()).isEqualTo(ref.values());
            assertThat(m.complete()).isEqualTo(maxValues > 0 && ref.values() == maxValues);
            for (byte[] call : ref.closed) {
                JsonNode c = JSON.readTree(call);
                String name = c.get("name").stringValue();
                assertThat(schemas).as("seed %d: a closed call names a function: %s", SEED, text(call)).containsKey(name);
                assertThat(SchemaReference.valid(schemas.get(name), schemas.get(name), c.get("arguments")))
                        .as("seed %d: arguments valid under %s: %s", SEED, schemas.get(name), text(call)).isTrue();
                closed++;
            }
        }
        assertThat(closed).as("seed " + SEED + ": enough calls must close to check them").isGreaterThan(12);
    }

    @Test
    void aValueMayOpenTheOutputOrFollowASeparatorAsLlama3WritesCalls() {
        byte[][] vocab = {null, "  ".getBytes(), "{\"".getBytes(), "a\":".getBytes(), "1}".getBytes(), " ;".getBytes(), " {".getBytes(),
                "x".getBytes(), "}".getBytes(), "\"a\": 2".getBytes()};
        OutputGrammar body = OutputGrammar.jsonSchema(SchemaCompiler.compile(JSON.readTree(
                "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}")), "t");
        ValueTriggers llama = new ValueTriggers(List.of(), new int[0], true, ";".getBytes());
        TriggeredMatcher m = (TriggeredMatcher) OutputGrammar.triggered(body, llama, -1).constraint(new VocabularyTrie(vocab), new int[] {0});
        m.accept(1);
        assertThat(m.restrictsNext()).as("blanks before the first byte decide nothing").isFalse();
        m.accept(2);
        assertThat(m.insideValue()).as("an output that begins with { is a call").isTrue();
        m.accept(3);
        m.accept(4);
        assertThat(m.values()).isEqualTo(1);
        m.accept(5);
        assertThat(m.insideValue()).as("the separator opens the next").isTrue();
        m.accept(6);
        m.accept(9);
        m.accept(8);
        assertThat(m.values()).isEqualTo(2);
        m.accept(7);
        m.accept(2);
        assertThat(m.insideValue()).as("after other text a { is just text").isFalse();

        TriggeredMatcher text = (TriggeredMatcher) OutputGrammar.triggered(body, llama, -1).constraint(new VocabularyTrie(vocab), new int[] {0});
        text.accept(7);
        text.accept(2);
        assertThat(text.insideValue()).as("an output that begins with text has no call at { later").isFalse();
    }

    /** As the text the reader sees, where special tokens are skipped: one inside an opener does not break it, nor blanks. */
    @Test
    void aSpecialTokenIsTransparentAndOnlyJsonBlanksAreBlanks() {
        byte[][] vocab = {null, null, "<t".getBytes(), ">{".getBytes(), "\u000B".getBytes(), "{\"".getBytes(), " ".getBytes()};
        ValueTriggers t = new ValueTriggers(List.of("<t>".getBytes()), new int[0], false, null);
        TriggeredMatcher m = (TriggeredMatcher) OutputGrammar.triggered(OutputGrammar.jsonObject(), t, -1)
                .constraint(new VocabularyTrie(vocab), new int[] {0});
        m.accept(2);
        m.accept(1);
        m.accept(3);
        assertThat(m.insideValue()).isTrue();
        ValueTriggers llama = new ValueTriggers(List.of(), new int[0], true, null);
        TriggeredMatcher start = (TriggeredMatcher) OutputGrammar.triggered(OutputGrammar.jsonObject(), llama, -1)
                .constraint(new VocabularyTrie(vocab), new int[] {0});
        start.accept(6);
        start.accept(1);
        start.accept(4);
        start.accept(5);
        assertThat(start.insideValue()).as("a vertical tab is text, so the { after it is too").isFalse();
    }

    @Test
    void anOpenerFollowedByWhatNoValueBeginsWithIsFreeTextAgain() {
        byte[][] vocab = {null, "<t>x".getBytes(), "<t>".getBytes(), "{}".getBytes()};
        OutputGrammar body = OutputGrammar.jsonObject();
        ValueTriggers t = new ValueTriggers(List.of("<t>".getBytes()), new int[0], false, null);
        TriggeredMatcher m = (TriggeredMatcher) OutputGrammar.triggered(body, t, 1).constraint(new VocabularyTrie(vocab), new int[] {0});
        m.accept(1);
        assertThat(m.insideValue()).as("x cannot begin an object").isFalse();
        m.accept(2);
        assertThat(m.insideValue()).isTrue();
        m.accept(3);
        assertThat(m.complete()).as("the one call allowed has closed").isTrue();
    }

    /**
     * The slow reference, token by token. Free text collects bytes; the trigger token, or a trigger
     * text ending in a token's bytes, opens a value with the bytes after it; a value closes where
     * it matches and no byte could extend it.
     */
    private static final class Reference {

        private final byte[][] vocab;
        private final OutputGrammar body;
        private final ByteArrayOutputStream all = new ByteArrayOutputStream();
        private final ByteArrayOutputStream free = new ByteArrayOutputStream();
        /** The open value's bytes so far; null between values. */
        byte[] value;
        final List<byte[]> closed = new ArrayList<>();

        Reference(byte[][] vocab, OutputGrammar body) {
            this.vocab = vocab;
            this.body = body;
        }

        int values() {
            return closed.size();
        }

        String text() {
            return all.toString(StandardCharsets.UTF_8);
        }

        void accept(int t) {
            if (vocab[t] != null) all.writeBytes(vocab[t]);
            if (value != null) {
                value = concat(value, vocab[t]);
            } else if (t == TRIGGER_TOKEN) {
                value = new byte[0];
                free.reset();
                return;
            } else if (vocab[t] == null) {
                // A special token leaves no text: it neither ends nor breaks a trigger.
                return;
            } else {
                int before = free.size();
                free.writeBytes(vocab[t]);
                byte[] f = free.toByteArray();
                int at = new String(f, StandardCharsets.ISO_8859_1).indexOf(OPENER);
                if (at < 0 || at + OPENER.length() <= before) return;
                value = Arrays.copyOfRange(f, at + OPENER.length(), f.length);
                free.reset();
                if (!body.allowsPrefix(value)) {
                    value = null;
                    return;
                }
            }
            if (closes(value)) {
                closed.add(value);
                value = null;
            }
        }

        private boolean closes(byte[] v) {
            if (!body.matches(v)) return false;
            for (int b = 0; b < 256; b++) {
                if (body.allowsPrefix(concat(v, new byte[] {(byte) b}))) return false;
            }
            return true;
        }
    }

    /**
     * Id 0 is the end, 1 the trigger token; then every printable ASCII byte and UTF-8 continuation byte, the opener whole and
     * in pieces (alone and run into a value's first bytes), and pieces of valid calls.
     */
    private static byte[][] vocabulary(Random rnd, RandomSchemas random, Map<String, JsonNode> schemas) {
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> tokens = new ArrayList<>();
        tokens.add(null);
        tokens.add(null);
        for (int b = 0x20; b < 0x7F; b++) add(tokens, seen, new byte[] {(byte) b});
        add(tokens, seen, "\n".getBytes());
        // Every UTF-8 continuation byte alone: a call's piece may end inside a character, and the rest must be spellable.
        for (int b = 0x80; b < 0xC0; b++) add(tokens, seen, new byte[] {(byte) b});
        for (String s : new String[] {OPENER, "<tool", "_call>", "<tool_call>\n", "<tool_call>{\"", "ll>{", "</tool_call>", "ok <tool_c"}) {
            add(tokens, seen, s.getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < 40; i++) {
            List<String> names = new ArrayList<>(schemas.keySet());
            String name = names.get(rnd.nextInt(names.size()));
            ObjectNode call = JsonNodeFactory.instance.objectNode();
            call.put("name", name);
            call.set("arguments", random.value(schemas.get(name), schemas.get(name), 0));
            byte[] text = random.text(call);
            for (int k = 0; k < 8 && text.length > 1; k++) {
                int from = rnd.nextInt(text.length - 1);
                int to = Math.min(text.length, from + 2 + rnd.nextInt(7));
                add(tokens, seen, Arrays.copyOfRange(text, from, to));
            }
        }
        return tokens.toArray(byte[][]::new);
    }

    private static void add(List<byte[]> tokens, Set<String> seen, byte[] b) {
        if (seen.add(java.util.HexFormat.of().formatHex(b))) tokens.add(b);
    }

    /** Free text: mostly letters, often the opener (whole, in pieces, or the trigger token), the end late. */
    private static int pickFree(Random rnd, byte[][] vocab, int step) {
        if (step > 200 && rnd.nextInt(4) == 0) return EOS;
        int r = rnd.nextInt(10);
        if (r == 0) return TRIGGER_TOKEN;
        if (r < 4) {
            List<Integer> opening = new ArrayList<>();
            for (int t = 2; t < vocab.length; t++) {
                String s = text(vocab[t]);
                if (s.contains("<") || s.contains("_call>") || s.contains("ll>")) opening.add(t);
            }
            return opening.get(rnd.nextInt(opening.size()));
        }
        return 2 + rnd.nextInt(vocab.length - 2);
    }

    private static int pickInValue(Random rnd, List<Integer> allowed, byte[][] vocab, int step) {
        if (rnd.nextInt(3) > 0) {
            List<Integer> closing = allowed.stream().filter(t -> closesSomething(vocab[t])).toList();
            if (!closing.isEmpty()) return closing.get(rnd.nextInt(closing.size()));
        }
        return allowed.get(rnd.nextInt(allowed.size()));
    }

    private static boolean closesSomething(byte[] b) {
        for (byte x : b) {
            if (x == '}' || x == ']' || x == '"') return true;
        }
        return false;
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
