package dev.podserve.structured;

import java.util.Arrays;

import dev.podserve.sampling.TokenConstraint;

/**
 * One choice's place in its {@link OutputGrammar}: the recognizer states its output so far leads
 * to. The sampler asks it for the tokens allowed next and tells it the token taken. Used by one
 * thread at a time (the engine's, or a sampling worker's while the engine waits for it).
 */
public final class GrammarMatcher implements TokenConstraint, TextFed {

    private final VocabularyTrie vocabulary;
    /** Sorted end-of-sequence ids inside the vocabulary: allowed exactly where the output may end. */
    private final int[] endTokens;
    private Frames states = new Frames();
    /** [maxDepth + 2]: one state set per depth of the vocabulary walk, made on first use. */
    private Frames[] scratch;
    private boolean ended;
    /** Whether the states may end and take no further byte; -1: not known since the last token. */
    private int complete = -1;

    GrammarMatcher(Frame root, VocabularyTrie vocabulary, int[] endTokens) {
        this.vocabulary = vocabulary;
        this.endTokens = Arrays.stream(endTokens).filter(t -> t >= 0 && t < vocabulary.vocabSize()).distinct().sorted().toArray();
        states.add(root);
    }

    @Override
    public void allowedTokens(long[] mask) {
        fill(mask, true);
    }

    /**
     * The same as {@link #allowedTokens}, by walking every token's bytes even inside a string: the
     * slow reference beside the fast path that takes a string's inside from a set made once.
     */
    public void allowedTokensByFullWalk(long[] mask) {
        fill(mask, false);
    }

    private void fill(long[] mask, boolean fast) {
        Arrays.fill(mask, 0);
        if (ended) return;
        if (scratch == null) {
            scratch = new Frames[vocabulary.maxDepth() + 2];
            for (int i = 0; i < scratch.length; i++) scratch[i] = new Frames();
        }
        if (!fast || !insideOneString(mask)) vocabulary.collect(states, scratch, mask);
        if (states.canEnd()) {
            for (int t : endTokens) mask[t >>> 6] |= 1L << t;
        }
    }

    /**
     * The fast path: where the states are the inside of one string that any name or text may fill
     * (a string value, a member name where other names are allowed), the tokens that stay inside
     * come from a set made once per vocabulary, and only paths through a quote are walked.
     *
     * @return false where it does not apply
     */
    private boolean insideOneString(long[] mask) {
        if (states.size != 1) return false;
        Frame f = states.items[0];
        if (f instanceof Frame.KeyFrame k && k.owner().shape().additional() != null) {
            vocabulary.collectInsideString(k.lex(), true, states, scratch, mask);
            return true;
        }
        if (!(f instanceof Frame.StringFrame s)) return false;
        int max = s.shape().maxLength();
        if (max < 0 || max - s.chars() >= vocabulary.maxDepth()) {
            // No token has more characters than bytes: none can pass the limit.
            vocabulary.collectInsideString(s.lex(), false, states, scratch, mask);
            return true;
        }
        if (s.lex() != StringLexer.NORMAL) return false;
        vocabulary.collectInsideShortString(max - s.chars(), states, scratch, mask);
        return true;
    }

    @Override
    public void accept(int token) {
        if (ended) throw new IllegalStateException("the output already ended; token " + token + " cannot follow");
        if (Arrays.binarySearch(endTokens, token) >= 0) {
            if (!states.canEnd()) throw new IllegalStateException("the output cannot end here: the response format is not complete");
            ended = true;
            return;
        }
        byte[] bytes = vocabulary.bytes(token);
        if (bytes == null) throw new IllegalStateException("token " + token + " has no text the response format can match");
        if (!acceptText(bytes, 0, bytes.length)) {
            throw new IllegalStateException("token " + token + " does not continue the output in the response format");
        }
    }

    /**
     * Takes {@code bytes[from, to)} as output, for text that did not come as whole tokens of the
     * format (the part of a token after a tool call's opening tag).
     *
     * @return false, with the states as they were, where a byte does not fit
     */
    @Override
    public boolean acceptText(byte[] bytes, int from, int to) {
        Frames after = after(bytes, from, to);
        if (after == null) return false;
        states = after;
        complete = -1;
        return true;
    }

    /** Whether {@link #acceptText} would take {@code bytes[from, to)}; the states stay as they are. */
    boolean acceptsText(byte[] bytes, int from, int to) {
        return after(bytes, from, to) != null;
    }

    /** The states after {@code bytes[from, to)}, or null where a byte does not fit; {@link #states} is only read. */
    private Frames after(byte[] bytes, int from, int to) {
        if (ended) return null;
        // Two buffers alternate over the walk; the first reads the current states and never writes them.
        Frames in = states;
        Frames out = new Frames();
        for (int i = from; i < to; i++) {
            in.step(bytes[i] & 0xFF, out);
            if (out.isEmpty()) return null;
            Frames free = in == states ? new Frames() : in;
            in = out;
            out = free;
        }
        return in;
    }

    @Override
    public boolean complete() {
        if (ended) return true;
        if (complete < 0) complete = states.canEnd() && !takesAnyByte() ? 1 : 0;
        return complete == 1;
    }

    private boolean takesAnyByte() {
        Frames probe = new Frames();
        for (int b = 0; b < 256; b++) {
            states.step(b, probe);
            if (!probe.isEmpty()) return true;
        }
        return false;
    }
}
