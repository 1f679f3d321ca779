package dev.podserve.structured;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.TokenConstraint;

import tools.jackson.databind.json.JsonMapper;

/**
 * A rule after a reasoning model's thinking, against a rule that is never shown the thinking: the
 * output's text is split at the tags by a reference of its own, and a fresh inner rule fed only the
 * answer's bytes must agree, step by step, with the wrapped one fed every token.
 */
class AfterReasoningTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String[] PIECES = {"a", " ", "\n", "<", "<think>", "</think>", "</th", "ink>", "<tool_call>", "<tool", "_call>",
            "{\"", "name", "\":", " \"f\"", ",\"", "arguments", "{}", "}", "\"x\": 1", ",", "hmm", "</think>\n{\"", "ok<think>", "x", "1", "\"",
            "</think>Sure", "ink>x", "</think> {", "</thi", "nk>", "k>{}", ">\n"};
    private static final byte[][] VOCAB = vocabulary();
    /** A special token that closes the thinking by id. */
    private static final int CLOSE_TOKEN = VOCAB.length - 1;

    /** Id 0 is the end; then the pieces, every printable ASCII byte alone (so a value can always go on), and last the close token. */
    private static byte[][] vocabulary() {
        List<byte[]> v = new ArrayList<>();
        v.add(null);
        for (String p : PIECES) v.add(p.getBytes(StandardCharsets.UTF_8));
        for (int b = 0x20; b < 0x7F; b++) v.add(new byte[] {(byte) b});
        v.add(null);
        return v.toArray(byte[][]::new);
    }

    private static OutputGrammar call() {
        Shape params = SchemaCompiler.compile(JSON.readTree("{\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"integer\"}}}"));
        return OutputGrammar.toolCall(java.util.Map.of("f", params), "arguments");
    }

    @Test
    void theWrappedRuleActsAsTheInnerRuleShownOnlyTheAnswer() {
        Random rnd = new Random(SEED);
        VocabularyTrie trie = new VocabularyTrie(VOCAB);
        ValueTriggers triggers = new ValueTriggers(List.of("<tool_call>".getBytes()), new int[0], false, null);
        OutputGrammar calls = OutputGrammar.triggered(call(), triggers, -1);
        int answered = 0;
        for (int g = 0; g < 400; g++) {
            boolean inside = rnd.nextBoolean();
            ReasoningPrelude prelude = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, CLOSE_TOKEN, inside);
            TokenConstraint wrapped = calls.afterReasoning(prelude).constraint(trie, new int[] {0});
            List<Integer> tokens = new ArrayList<>();
            long[] mask = new long[(VOCAB.length + 63) / 64];
            for (int step = 0; step < 30; step++) {
                // The reference: the answer so far, and a fresh rule shown only it.
                byte[] answer = answer(tokens, inside);
                TriggeredMatcher fresh = (TriggeredMatcher) calls.constraint(trie, new int[] {0});
                if (answer != null) fresh.acceptText(answer, 0, answer.length);
                boolean restricts = answer != null && fresh.restrictsNext();
                String where = "seed " + SEED + ", inside " + inside + ", tokens " + tokens + " <" + text(tokens) + ">";
                assertThat(wrapped.restrictsNext()).as(where).isEqualTo(restricts);
                int token;
                if (restricts) {
                    wrapped.allowedTokens(mask);
                    long[] want = new long[mask.length];
                    fresh.allowedTokens(want);
                    assertThat(mask).as(where).containsExactly(want);
                    List<Integer> allowed = new ArrayList<>();
                    for (int t = 0; t < VOCAB.length; t++) if ((mask[t >>> 6] & (1L << t)) != 0) allowed.add(t);
                    assertThat(allowed).as(where).isNotEmpty();
                    token = allowed.get(rnd.nextInt(allowed.size()));
                } else {
                    // Mostly the pieces, so tags and openers come often.
                    token = rnd.nextInt(4) > 0 ? 1 + rnd.nextInt(PIECES.length) : rnd.nextInt(10) == 0 ? CLOSE_TOKEN : 1 + rnd.nextInt(VOCAB.length - 2);
                }
                wrapped.accept(token);
                tokens.add(token);
            }
            if (answer(tokens, inside) != null) answered++;
        }
        assertThat(answered).as("enough outputs must reach an answer").isGreaterThan(100);
    }

    @Test
    void aFormatThatBindsTheStartLeavesNoRoomToThinkUnlessThePromptOpenedIt() {
        VocabularyTrie trie = new VocabularyTrie(VOCAB);
        OutputGrammar json = OutputGrammar.jsonObject();
        ReasoningPrelude notOpened = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, CLOSE_TOKEN, false);
        assertThat(json.afterReasoning(notOpened).constraint(trie, new int[] {0}).restrictsNext()).isTrue();
        ReasoningPrelude opened = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, CLOSE_TOKEN, true);
        TokenConstraint c = json.afterReasoning(opened).constraint(trie, new int[] {0});
        long[] mask = new long[(VOCAB.length + 63) / 64];
        c.allowedTokens(mask);
        assertThat(mask[0] & 1L).as("a format is not left unanswered: no end while thinking").isZero();
        for (int t = 1; t < VOCAB.length; t++) {
            // All but a closing tag followed by text no JSON object begins with.
            boolean closesIntoText = t == index("</think>Sure");
            assertThat((mask[t >>> 6] & (1L << t)) != 0).as("token %d", t).isEqualTo(!closesIntoText);
        }
        c.accept(index("hmm"));
        c.accept(index("</think>\n{\""));
        assertThat(c.restrictsNext()).as("the bytes after the tag began the object").isTrue();
        c.accept(index("name"));
        c.accept(index("\":"));
        c.accept(index("{}"));
        c.accept(index("}"));
        assertThat(c.complete()).isTrue();
    }

    /**
     * Under a format (a JSON object), the thinking's mask against the reference, token by token: a
     * token is allowed while thinking exactly where the answer it would leave is none yet, or one a
     * fresh format takes, wherever the closing tag is cut; so an answer never leaves the format.
     */
    @Test
    void whileThinkingUnderAFormatATokenMayCloseItOnlyIntoTextTheFormatTakes() {
        Random rnd = new Random(SEED);
        VocabularyTrie trie = new VocabularyTrie(VOCAB);
        OutputGrammar json = OutputGrammar.jsonObject();
        ReasoningPrelude opened = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, CLOSE_TOKEN, true);
        long[] mask = new long[(VOCAB.length + 63) / 64];
        int refused = 0, answered = 0;
        for (int g = 0; g < 200; g++) {
            TokenConstraint c = json.afterReasoning(opened).constraint(trie, new int[] {0});
            List<Integer> tokens = new ArrayList<>();
            for (int step = 0; step < 30 && !c.complete(); step++) {
                assertThat(c.restrictsNext()).as("a format binds the output throughout").isTrue();
                c.allowedTokens(mask);
                boolean thinking = answer(tokens, true) == null;
                List<Integer> allowed = new ArrayList<>(), pieces = new ArrayList<>();
                for (int t = 1; t < VOCAB.length; t++) {
                    boolean ok = (mask[t >>> 6] & (1L << t)) != 0;
                    if (thinking) {
                        tokens.add(t);
                        byte[] after = answer(tokens, true);
                        tokens.remove(tokens.size() - 1);
                        boolean takes = after == null || ((GrammarMatcher) json.constraint(trie, new int[] {0})).acceptText(after, 0, after.length);
                        assertThat(ok).as("seed %d, <%s> then %d", SEED, text(tokens), t).isEqualTo(takes);
                        if (!takes) refused++;
                    }
                    if (ok) allowed.add(t);
                    if (ok && t <= PIECES.length) pieces.add(t);
                }
                assertThat(allowed).isNotEmpty();
                // Mostly the pieces, so the tag comes, whole and cut.
                List<Integer> from = !pieces.isEmpty() && rnd.nextInt(4) > 0 ? pieces : allowed;
                int token = from.get(rnd.nextInt(from.size()));
                c.accept(token);
                tokens.add(token);
            }
            byte[] answer = answer(tokens, true);
            if (answer == null) continue;
            answered++;
            GrammarMatcher fresh = (GrammarMatcher) json.constraint(trie, new int[] {0});
            assertThat(fresh.acceptText(answer, 0, answer.length)).as("seed %d, <%s>", SEED, text(tokens)).isTrue();
        }
        assertThat(answered).as("enough outputs must reach an answer").isGreaterThan(50);
        assertThat(refused).as("closers into text the format refuses must come up").isGreaterThan(0);
    }

    /** The case as a review found it: "</think>Sure" under a JSON object after "hmm", and "ink>x" after "</th". */
    @Test
    void aTokenThatClosesTheThinkingIntoTextTheFormatRefusesIsNotAllowed() {
        VocabularyTrie trie = new VocabularyTrie(VOCAB);
        ReasoningPrelude opened = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, CLOSE_TOKEN, true);
        TokenConstraint c = OutputGrammar.jsonObject().afterReasoning(opened).constraint(trie, new int[] {0});
        long[] mask = new long[(VOCAB.length + 63) / 64];
        c.accept(index("hmm"));
        c.allowedTokens(mask);
        assertThat(mask[index("</think>Sure") >>> 6] & (1L << index("</think>Sure"))).isZero();
        assertThat(mask[index("</think> {") >>> 6] & (1L << index("</think> {"))).isNotZero();
        assertThat(mask[index("ink>x") >>> 6] & (1L << index("ink>x"))).as("no tag to finish yet").isNotZero();
        c.accept(index("</th"));
        c.allowedTokens(mask);
        assertThat(mask[index("ink>x") >>> 6] & (1L << index("ink>x"))).isZero();
        assertThat(mask[index("ink>") >>> 6] & (1L << index("ink>"))).isNotZero();
        c.accept(index("ink>"));
        c.accept(index("{}"));
        assertThat(c.complete()).isTrue();
    }

    /** Blanks after the closing tag are no part of the answer, in its token or after it: a choice still binds. */
    @Test
    void blanksAfterTheThinkingAreSkippedAsTheTextSkipsThem() {
        byte[][] vocab = {null, "hmm".getBytes(), "</think>\n\n".getBytes(), "\n".getBytes(), "yes".getBytes(), "maybe".getBytes(),
                "\nyes".getBytes()};
        OutputGrammar choice = OutputGrammar.choice(List.of("yes", "no"));
        ReasoningPrelude opened = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, -1, true);
        TokenConstraint c = choice.afterReasoning(opened).constraint(new VocabularyTrie(vocab), new int[] {0});
        c.accept(1);
        c.accept(2);
        long[] mask = new long[1];
        c.allowedTokens(mask);
        assertThat(mask[0]).as("blanks, or the choice").isEqualTo((1L << 3) | (1L << 4));
        c.accept(3);
        c.allowedTokens(mask);
        assertThat(mask[0]).isEqualTo((1L << 3) | (1L << 4));
        c.accept(4);
        assertThat(c.complete()).isTrue();
    }

    /** A model that may think answers at once with a call opened by a special token: the call is bound all the same. */
    @Test
    void aSpecialTokenThatOpensACallBeginsTheAnswer() {
        byte[][] vocab = {null, "{\"".getBytes(), "name".getBytes(), null, null};
        VocabularyTrie trie = new VocabularyTrie(vocab);
        ValueTriggers triggers = new ValueTriggers(List.of("<tool_call>".getBytes()), new int[] {3}, false, null);
        OutputGrammar calls = OutputGrammar.triggered(call(), triggers, -1);
        ReasoningPrelude prelude = new ReasoningPrelude("<think>".getBytes(), "</think>".getBytes(), -1, 4, false);
        TokenConstraint c = calls.afterReasoning(prelude).constraint(trie, new int[] {0});
        c.accept(3);
        assertThat(c.restrictsNext()).isTrue();
        c.accept(1);
        assertThat(c.restrictsNext()).isTrue();
    }

    private static int index(String piece) {
        for (int i = 0; i < PIECES.length; i++) if (PIECES[i].equals(piece)) return i + 1;
        throw new IllegalArgumentException(piece);
    }

    /**
     * The answer's bytes after the thinking, or null while still thinking (or maybe about to), as
     * the response's text has them: an output thinks if the prompt opened it, or if it begins with
     * the opening tag after blanks; the close token or tag ends the thinking; blanks after it are
     * dropped; special tokens that are no tag leave no text.
     */
    private static byte[] answer(List<Integer> tokens, boolean inside) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int t : tokens) {
            // The close token stands as U+0000 in the text until the thinking is read.
            if (t == CLOSE_TOKEN) all.write(0);
            else all.writeBytes(VOCAB[t]);
        }
        String text = all.toString(StandardCharsets.ISO_8859_1);
        int start;
        if (inside) {
            start = 0;
        } else {
            StringBuilder seen = new StringBuilder();
            start = -1;
            for (int i = 0; i < text.length() && start < 0; i++) {
                if (text.charAt(i) != 0) seen.append(text.charAt(i));
                String s = strip(seen.toString());
                if (s.equals("<think>")) start = i + 1;
                else if (!"<think>".startsWith(s)) return text.replace("\u0000", "").getBytes(StandardCharsets.ISO_8859_1);
            }
            if (start < 0) return null;
        }
        int tag = text.indexOf("</think>", start);
        int token = text.indexOf('\u0000', start);
        int after;
        if (tag >= 0 && (token < 0 || tag < token)) after = tag + "</think>".length();
        else if (token >= 0) after = token + 1;
        else return null;
        return strip(text.substring(after).replace("\u0000", "")).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Without leading blanks (JSON's four). */
    private static String strip(String s) {
        int i = 0;
        while (i < s.length() && " \t\n\r".indexOf(s.charAt(i)) >= 0) i++;
        return s.substring(i);
    }

    private static String text(List<Integer> tokens) {
        StringBuilder b = new StringBuilder();
        for (int t : tokens) b.append(t == CLOSE_TOKEN ? "[/think]" : new String(VOCAB[t], StandardCharsets.UTF_8));
        return b.toString();
    }
}
