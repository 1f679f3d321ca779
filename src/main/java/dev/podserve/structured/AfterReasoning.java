package dev.podserve.structured;

import java.util.Arrays;

import dev.podserve.sampling.TokenConstraint;

/**
 * A rule that binds only the answer after a reasoning model's thinking: nothing is restricted
 * while it thinks, and the inner rule (a structured output, the calls of {@code tool_choice:
 * "auto"}) takes over where the thinking closes, with the bytes that follow its closing tag in the
 * same token. Where the output may or may not begin with thinking, the inner rule must leave its
 * start free (a triggered one); the opening tag is then looked for among the first bytes.
 */
final class AfterReasoning implements TokenConstraint {

    private enum Phase {
        /** Only blanks and the beginning of the opening tag so far. */
        PREAMBLE,
        THINKING,
        ANSWER
    }

    private final TokenConstraint inner;
    private final ReasoningPrelude prelude;
    private final VocabularyTrie vocabulary;
    private Phase phase;
    /** PREAMBLE: the bytes held (blanks and part of the tag); THINKING: the end of the text, where the closing tag may have begun. */
    private byte[] held = new byte[0];
    /** Bytes after the closing tag that the inner rule refused: it then binds nothing more. */
    private boolean broken;

    AfterReasoning(TokenConstraint inner, ReasoningPrelude prelude, VocabularyTrie vocabulary) {
        this.inner = inner;
        this.prelude = prelude;
        this.vocabulary = vocabulary;
        if (prelude.startsInside()) phase = Phase.THINKING;
        // A rule that binds the output's first token leaves no room to think first.
        else phase = inner.restrictsNext() || !(inner instanceof TextFed) ? Phase.ANSWER : Phase.PREAMBLE;
    }

    @Override
    public boolean restrictsNext() {
        return phase == Phase.ANSWER && !broken && inner.restrictsNext();
    }

    @Override
    public void allowedTokens(long[] mask) {
        if (restrictsNext()) inner.allowedTokens(mask);
        else Arrays.fill(mask, -1L);
    }

    @Override
    public boolean complete() {
        return phase == Phase.ANSWER && !broken && inner.complete();
    }

    /** Whether the thinking is over (or never began). */
    boolean answering() {
        return phase == Phase.ANSWER;
    }

    @Override
    public void accept(int token) {
        switch (phase) {
            case ANSWER -> {
                if (!broken) inner.accept(token);
            }
            case PREAMBLE -> preamble(token);
            case THINKING -> thinking(token);
        }
    }

    private void preamble(int token) {
        if (token == prelude.openToken()) {
            phase = Phase.THINKING;
            held = new byte[0];
            return;
        }
        byte[] bytes = vocabulary.bytes(token);
        if (bytes == null) {
            // A special token before any text: the answer has begun, without thinking.
            answer();
            feed(held, 0);
            if (!broken) inner.accept(token);
            return;
        }
        byte[] text = concat(held, bytes, 0);
        int i = 0;
        while (i < text.length && blank(text[i])) i++;
        byte[] open = prelude.open();
        int n = Math.min(open.length, text.length - i);
        if (Arrays.equals(text, i, i + n, open, 0, n)) {
            if (n < open.length) {
                held = text;
                return;
            }
            phase = Phase.THINKING;
            held = new byte[0];
            thinkingBytes(text, i + open.length);
            return;
        }
        // No thinking: everything held so far is the answer's first text.
        answer();
        feed(text, 0);
    }

    private void thinking(int token) {
        if (token == prelude.closeToken()) {
            answer();
            return;
        }
        byte[] bytes = vocabulary.bytes(token);
        // A special token leaves no text the reader sees: it does not break a tag in two.
        if (bytes != null) thinkingBytes(bytes, 0);
    }

    /** Looks for the closing tag in the kept end of the thinking plus {@code bytes[from..]}. */
    private void thinkingBytes(byte[] bytes, int from) {
        byte[] text = concat(held, bytes, from);
        byte[] close = prelude.close();
        int at = indexOf(text, close);
        if (at < 0) {
            held = Arrays.copyOfRange(text, Math.max(0, text.length - (close.length - 1)), text.length);
            return;
        }
        answer();
        feed(text, at + close.length);
    }

    private void answer() {
        phase = Phase.ANSWER;
        held = new byte[0];
    }

    /** The answer's first bytes, from inside a token: to the inner rule as text. */
    private void feed(byte[] text, int from) {
        if (from >= text.length) return;
        if (!((TextFed) inner).acceptText(text, from, text.length)) broken = true;
    }

    private static byte[] concat(byte[] a, byte[] b, int from) {
        byte[] out = Arrays.copyOf(a, a.length + b.length - from);
        System.arraycopy(b, from, out, a.length, b.length - from);
        return out;
    }

    private static boolean blank(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    static int indexOf(byte[] text, byte[] t) {
        outer:
        for (int i = 0; i + t.length <= text.length; i++) {
            for (int j = 0; j < t.length; j++) {
                if (text[i + j] != t[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
