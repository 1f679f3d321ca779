package dev.podserve.structured;

import java.util.Arrays;

import dev.podserve.sampling.TokenConstraint;

/**
 * Free text in which each value opened by a {@link ValueTriggers trigger} must follow a grammar: a
 * tool call in the model's own format, with tools left to the model's choice. Between values no
 * token is restricted and no mask is worked out; from a trigger until its value closes the body's
 * {@link GrammarMatcher} decides, so a call the model starts always names a listed function with
 * arguments valid under its parameters. After the most values allowed the output is complete.
 * Used by one thread at a time.
 */
final class TriggeredMatcher implements TokenConstraint, TextFed {

    private enum Phase {
        /** Nothing but blanks yet, and a value may open the output. */
        START,
        /** Free text; a trigger text may be under way in {@link #tail}. */
        FREE,
        /** Inside a value, under {@link #value}. */
        VALUE,
        /** Right after a value: blanks, then the separator may open the next. */
        AFTER,
        /** The most values allowed have closed: nothing may follow. */
        DONE
    }

    private static final byte[] NONE = new byte[0];

    private final OutputGrammar body;
    private final ValueTriggers triggers;
    private final VocabularyTrie vocabulary;
    /** Most values; -1: no bound. */
    private final int maxValues;
    /** Fewer than the longest trigger text's bytes: the end of the free text, where a trigger may have begun. */
    private final int keep;

    private Phase phase;
    private GrammarMatcher value;
    private int values;
    private byte[] tail = NONE;
    /** Bytes of the separator seen in {@link Phase#AFTER}. */
    private int separatorAt;

    TriggeredMatcher(OutputGrammar body, ValueTriggers triggers, VocabularyTrie vocabulary, int maxValues) {
        this.body = body;
        this.triggers = triggers;
        this.vocabulary = vocabulary;
        this.maxValues = maxValues;
        this.keep = Math.max(0, triggers.longestText() - 1);
        this.phase = triggers.atStart() ? Phase.START : Phase.FREE;
    }

    @Override
    public boolean restrictsNext() {
        return phase == Phase.VALUE;
    }

    @Override
    public void allowedTokens(long[] mask) {
        if (phase == Phase.VALUE) {
            value.allowedTokens(mask);
        } else {
            // Asked between values anyway: every token is allowed.
            Arrays.fill(mask, -1L);
        }
    }

    /** The slow reference of {@link #allowedTokens}: inside a value, the body's full walk. */
    void allowedTokensByFullWalk(long[] mask) {
        if (phase == Phase.VALUE) value.allowedTokensByFullWalk(mask);
        else Arrays.fill(mask, -1L);
    }

    @Override
    public boolean complete() {
        return phase == Phase.DONE;
    }

    /** Values closed so far. */
    int values() {
        return values;
    }

    boolean insideValue() {
        return phase == Phase.VALUE;
    }

    @Override
    public void accept(int token) {
        switch (phase) {
            case DONE -> {
                // The engine ends the output once complete (ignore_eos and min_tokens included), so nothing comes here.
            }
            case VALUE -> {
                value.accept(token);
                if (value.complete()) close();
            }
            default -> {
                if (triggers.isToken(token)) {
                    open();
                    return;
                }
                byte[] bytes = vocabulary.bytes(token);
                // A special token that is no trigger leaves no text the reader sees (special tokens are
                // skipped in the text unless a trigger is one), so it changes nothing here either.
                if (bytes != null) read(bytes, 0);
            }
        }
    }

    /** Free text as bytes: any bytes fit (a value they open and do not fit is given up as text). */
    @Override
    public boolean acceptText(byte[] bytes, int from, int to) {
        read(Arrays.copyOfRange(bytes, from, to), 0);
        return true;
    }

    /** Reads free-text bytes from {@code i} on, opening, feeding and closing values as they come. */
    private void read(byte[] bytes, int i) {
        while (i < bytes.length) {
            switch (phase) {
                case DONE -> {
                    return;
                }
                case START -> {
                    if (ByteText.blank(bytes[i])) {
                        i++;
                    } else {
                        open();
                        // Not the start of a value after all: free text from this byte on.
                        if (!value.acceptText(bytes, i, i + 1)) abandon();
                        else i = afterByte(i);
                    }
                }
                case AFTER -> {
                    if (separatorAt == 0 && ByteText.blank(bytes[i])) {
                        i++;
                    } else if (bytes[i] == triggers.separator()[separatorAt]) {
                        i++;
                        if (++separatorAt == triggers.separator().length) open();
                    } else {
                        phase = Phase.FREE;
                    }
                }
                case VALUE -> {
                    if (!value.acceptText(bytes, i, i + 1)) abandon();
                    else i = afterByte(i);
                }
                case FREE -> i = scanFree(bytes, i);
            }
        }
    }

    /** After a byte fed to the value: closes it where it is complete. */
    private int afterByte(int i) {
        if (value.complete()) close();
        return i + 1;
    }

    /**
     * Looks for a trigger text in the free text kept so far plus {@code bytes[i..]}; opens a value
     * after the first one found and returns where its bytes continue, else keeps the end and
     * returns {@code bytes.length}.
     */
    private int scanFree(byte[] bytes, int i) {
        byte[] text = new byte[tail.length + bytes.length - i];
        System.arraycopy(tail, 0, text, 0, tail.length);
        System.arraycopy(bytes, i, text, tail.length, bytes.length - i);
        int bestEnd = -1;
        for (byte[] t : triggers.texts()) {
            int at = ByteText.indexOf(text, t);
            if (at >= 0 && (bestEnd < 0 || at + t.length < bestEnd)) bestEnd = at + t.length;
        }
        if (bestEnd < 0) {
            tail = Arrays.copyOfRange(text, Math.max(0, text.length - keep), text.length);
            return bytes.length;
        }
        // bestEnd counts from the start of the kept tail; a trigger found there ended in these bytes.
        int resume = i + bestEnd - tail.length;
        open();
        return resume;
    }

    private void open() {
        value = body.matcherWithoutEnd(vocabulary);
        phase = Phase.VALUE;
        tail = NONE;
        separatorAt = 0;
    }

    private void close() {
        values++;
        value = null;
        tail = NONE;
        separatorAt = 0;
        if (values == maxValues) phase = Phase.DONE;
        else phase = triggers.separator() != null ? Phase.AFTER : Phase.FREE;
    }

    /** A value whose bytes did not come as its grammar's tokens and do not fit it: free text again. */
    private void abandon() {
        value = null;
        phase = Phase.FREE;
        tail = NONE;
    }
}
