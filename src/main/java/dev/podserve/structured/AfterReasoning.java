package dev.podserve.structured;

import java.util.Arrays;

import dev.podserve.sampling.TokenConstraint;

/**
 * A rule that binds only the answer after a reasoning model's thinking: the thinking is free (but
 * for the end token, where the inner rule decides where the output ends: a format is not left
 * unanswered; and for a token that closes the thinking and goes on with answer text the format
 * refuses, which would leave the answer unbound), blanks after the closing tag are skipped as the
 * response's text skips them, and the inner rule (a structured output, the calls of {@code tool_choice: "auto"}) takes over at the
 * answer's first other byte, in the token that closes the thinking or a later one. Where the output
 * may or may not begin with thinking, the inner rule must leave its start free (a triggered one);
 * the opening tag is then looked for among the first bytes. Special tokens that are no tag leave
 * no text in the response, so they change nothing here either.
 */
final class AfterReasoning implements TokenConstraint {

    private enum Phase {
        /** Only blanks and the beginning of the opening tag so far. */
        PREAMBLE,
        THINKING,
        /** The thinking has closed; only blanks since. */
        ANSWER_START,
        ANSWER
    }

    private final TokenConstraint inner;
    private final ReasoningPrelude prelude;
    private final VocabularyTrie vocabulary;
    /** End tokens banned while thinking: where the inner rule decides the end; empty otherwise. */
    private final int[] bannedWhileThinking;
    private Phase phase;
    private static final byte[] NOTHING = {};
    /** PREAMBLE: the bytes held (blanks and part of the tag); THINKING: the end of the text, where the closing tag may have begun. */
    private byte[] held = NOTHING;
    /** Bytes of the answer the inner rule refused (they came inside a token it did not choose): it then binds nothing more. */
    private boolean broken;

    AfterReasoning(TokenConstraint inner, ReasoningPrelude prelude, VocabularyTrie vocabulary, int[] endTokens) {
        this.inner = inner;
        this.prelude = prelude;
        this.vocabulary = vocabulary;
        this.bannedWhileThinking = inner instanceof GrammarMatcher ? endTokens.clone() : new int[0];
        if (prelude.startsInside()) phase = Phase.THINKING;
        // A rule that binds the output's first token leaves no room to think first.
        else phase = inner.restrictsNext() || !(inner instanceof TextFed) ? Phase.ANSWER : Phase.PREAMBLE;
    }

    @Override
    public boolean restrictsNext() {
        return switch (phase) {
            case PREAMBLE -> false;
            case THINKING -> bannedWhileThinking.length > 0;
            case ANSWER_START, ANSWER -> !broken && inner.restrictsNext();
        };
    }

    @Override
    public void allowedTokens(long[] mask) {
        if (!restrictsNext()) {
            Arrays.fill(mask, -1L);
        } else if (phase == Phase.THINKING) {
            Arrays.fill(mask, -1L);
            for (int t : bannedWhileThinking) {
                if (t >= 0 && (t >>> 6) < mask.length) mask[t >>> 6] &= ~(1L << t);
            }
            banClosersTheFormatRefuses(mask);
        } else {
            inner.allowedTokens(mask);
            if (phase == Phase.ANSWER_START) {
                long[] blanks = vocabulary.blankTokens();
                for (int w = 0; w < mask.length; w++) mask[w] |= blanks[w];
            }
        }
    }

    @Override
    public boolean complete() {
        return phase == Phase.ANSWER && !broken && inner.complete();
    }

    @Override
    public void accept(int token) {
        switch (phase) {
            case ANSWER -> {
                if (!broken) inner.accept(token);
            }
            case PREAMBLE -> preamble(token);
            case THINKING -> thinking(token);
            case ANSWER_START -> {
                byte[] bytes = vocabulary.bytes(token);
                if (bytes == null) special(token);
                else startAnswer(bytes, 0);
            }
        }
    }

    private void preamble(int token) {
        if (token == prelude.openToken()) {
            enter(Phase.THINKING);
            return;
        }
        byte[] bytes = vocabulary.bytes(token);
        if (bytes == null) {
            special(token);
            return;
        }
        byte[] text = concat(held, bytes, 0);
        int i = ByteText.skipBlanks(text, 0);
        byte[] open = prelude.open();
        int n = Math.min(open.length, text.length - i);
        if (Arrays.equals(text, i, i + n, open, 0, n)) {
            if (n < open.length) {
                held = text;
                return;
            }
            enter(Phase.THINKING);
            thinkingBytes(text, i + open.length);
            return;
        }
        // No thinking: everything held so far is the answer's first text.
        enter(Phase.ANSWER);
        feed(text, 0);
    }

    /**
     * A special token before the answer's first text (no tag): the inner rule sees it (it may open a
     * call, as {@code <tool_call>} does for some tokenizers), and the answer has begun where it did;
     * one that opens nothing leaves no text, so nothing changes.
     */
    private void special(int token) {
        boolean text = false;
        for (byte b : held) text |= !ByteText.blank(b);
        if (text) {
            // The held beginning of a tag turned out to be the answer's text.
            feed(held, 0);
            enter(Phase.ANSWER);
        }
        if (!broken) inner.accept(token);
        if (!broken && inner.restrictsNext()) enter(Phase.ANSWER);
    }

    private void thinking(int token) {
        if (token == prelude.closeToken()) {
            enter(Phase.ANSWER_START);
            return;
        }
        byte[] bytes = vocabulary.bytes(token);
        if (bytes != null) thinkingBytes(bytes, 0);
    }

    /** Looks for the closing tag in the kept end of the thinking plus {@code bytes[from..]}. */
    private void thinkingBytes(byte[] bytes, int from) {
        byte[] text = concat(held, bytes, from);
        byte[] close = prelude.close();
        int at = ByteText.indexOf(text, close);
        if (at < 0) {
            held = Arrays.copyOfRange(text, Math.max(0, text.length - (close.length - 1)), text.length);
            return;
        }
        enter(Phase.ANSWER_START);
        startAnswer(text, at + close.length);
    }

    /**
     * Thinking under a format (the inner rule is a {@link GrammarMatcher}): a token that completes
     * the closing tag in ordinary text and carries answer bytes after it (past blanks) is allowed only
     * where the format takes those bytes, so the answer stays bound from its first byte on.
     */
    private void banClosersTheFormatRefuses(long[] mask) {
        GrammarMatcher format = (GrammarMatcher) inner;
        byte[] close = prelude.close();
        int[][] closing = vocabulary.tokensCompleting(close);
        for (int k = 0; k < closing.length; k++) {
            // [k > 0] applies only where the thinking so far ends in the tag's first k bytes.
            if (k > 0 && (held.length < k || !Arrays.equals(held, held.length - k, held.length, close, 0, k))) continue;
            for (int t : closing[k]) {
                byte[] text = concat(held, vocabulary.bytes(t), 0);
                int at = ByteText.indexOf(text, close);
                if (at < 0) continue;
                int i = ByteText.skipBlanks(text, at + close.length);
                if (i < text.length && !format.acceptsText(text, i, text.length)) mask[t >>> 6] &= ~(1L << t);
            }
        }
    }

    /** A new phase holds nothing of the last one's bytes. */
    private void enter(Phase next) {
        phase = next;
        held = NOTHING;
    }

    /** Skips blanks at the answer's start; its first other byte and what follows go to the inner rule. */
    private void startAnswer(byte[] text, int from) {
        int i = ByteText.skipBlanks(text, from);
        if (i == text.length) return;
        phase = Phase.ANSWER;
        feed(text, i);
    }

    /** The answer's bytes, from inside a token: to the inner rule as text. */
    private void feed(byte[] text, int from) {
        if (from >= text.length || broken) return;
        if (!((TextFed) inner).acceptText(text, from, text.length)) broken = true;
    }

    private static byte[] concat(byte[] a, byte[] b, int from) {
        byte[] out = Arrays.copyOf(a, a.length + b.length - from);
        System.arraycopy(b, from, out, a.length, b.length - from);
        return out;
    }
}
