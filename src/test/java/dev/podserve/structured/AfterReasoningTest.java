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
            "{\"", "name", "\":", " \"f\"", ",\"", "arguments", "{}", "}", "\"x\": 1", ",", "hmm", "</think>\n{\"", "ok<think>", "x", "1", "\""};
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
        assertThat(c.restrictsNext()).isFalse();
        c.accept(index("hmm"));
        c.accept(index("</think>\n{\""));
        assertThat(c.restrictsNext()).as("the bytes after the tag began the object").isTrue();
        c.accept(index("name"));
        c.accept(index("\":"));
        c.accept(index("{}"));
        c.accept(index("}"));
        assertThat(c.complete()).isTrue();
    }

    private static int index(String piece) {
        for (int i = 0; i < PIECES.length; i++) if (PIECES[i].equals(piece)) return i + 1;
        throw new IllegalArgumentException(piece);
    }

    /**
     * The answer's bytes after the thinking, or null while still thinking (or maybe about to): an
     * output thinks if the prompt opened it, or if it begins with the opening tag after blanks.
     */
    private static byte[] answer(List<Integer> tokens, boolean inside) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int closedAt = -1;
        for (int t : tokens) {
            if (t == CLOSE_TOKEN) {
                if (closedAt < 0) {
                    closedAt = all.size();
                    // A close token stands for the tag, kept out of the text.
                    all.writeBytes("\u0000".getBytes());
                }
                continue;
            }
            all.writeBytes(VOCAB[t]);
        }
        String text = all.toString(StandardCharsets.ISO_8859_1);
        int start = 0;
        boolean thinking = inside;
        if (!inside) {
            String stripped = text.stripLeading();
            if (stripped.startsWith("<think>")) {
                thinking = true;
                start = text.length() - stripped.length() + "<think>".length();
            } else if ("<think>".startsWith(stripped)) {
                return null;
            } else {
                return text.getBytes(StandardCharsets.ISO_8859_1);
            }
        }
        int textClose = text.indexOf("</think>", start);
        int nulClose = text.indexOf('\u0000', start);
        int end;
        int after;
        if (textClose >= 0 && (nulClose < 0 || textClose < nulClose)) {
            end = textClose;
            after = textClose + "</think>".length();
        } else if (nulClose >= 0) {
            end = nulClose;
            after = nulClose + 1;
        } else {
            return null;
        }
        String rest = text.substring(after).replace("\u0000", "");
        return thinking ? rest.getBytes(StandardCharsets.ISO_8859_1) : null;
    }

    private static String text(List<Integer> tokens) {
        StringBuilder b = new StringBuilder();
        for (int t : tokens) b.append(t == CLOSE_TOKEN ? "[/think]" : new String(VOCAB[t], StandardCharsets.UTF_8));
        return b.toString();
    }
}
