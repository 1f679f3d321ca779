package dev.podserve.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * Turns generated tokens into text as they arrive. What {@link #push} returns is final: it never
 * ends in a partial UTF-8 character (a token may carry one byte of a character whose other bytes
 * come in later tokens) and is never revised. All pushes plus {@link #flush} concatenate to
 * exactly {@code tokenizer.decode(generated(), skipSpecialTokens)}.
 *
 * <p>A token's text can depend on its neighbours (SentencePiece drops the space of the first token
 * of a decode; some decoders merge byte tokens), so each push decodes a window that starts a few
 * tokens before the unread ones and emits only what the new tokens add to it. The prompt is not
 * part of that window: the output is the generated text alone, as {@code decode(output[len(prompt):])}
 * gives it. Not thread-safe; one per request.
 */
public final class IncrementalDetokenizer {

    /** Tokens of already-emitted text kept in the window as left context. */
    private static final int CONTEXT_TOKENS = 5;
    private static final char REPLACEMENT = '\uFFFD';

    private final HfTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[32];
    private int count;
    /** Start of the decode window. */
    private int prefixOffset;
    /** Tokens before this are emitted. */
    private int readOffset;
    /** decode(ids[prefixOffset, readOffset)). */
    private String prefixText = "";
    /** Length of all text returned so far. */
    private int emittedChars;

    /**
     * @param promptIds the prompt these tokens continue; not decoded, see the class comment
     */
    public IncrementalDetokenizer(HfTokenizer tokenizer, int[] promptIds, boolean skipSpecialTokens) {
        this.tokenizer = Objects.requireNonNull(tokenizer);
        Objects.requireNonNull(promptIds);
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one generated token and returns the text that became final with it, possibly "". */
    public String push(int tokenId) {
        if (count == ids.length) ids = Arrays.copyOf(ids, count * 2);
        ids[count++] = tokenId;
        if (inByteRun()) return "";
        String window = decode(prefixOffset, count);
        // A decoder that rewrote text across the window's start would fail startsWith from then on:
        // the stream then holds back and flush brings the rest.
        if (window.length() > prefixText.length() && window.startsWith(prefixText) && !incomplete(window)) {
            return emit(window.substring(prefixText.length()));
        }
        return "";
    }

    /** The text not returned yet, at the end of generation; afterwards the output is complete. */
    public String flush() {
        String all = decode(0, count);
        String rest = all.substring(Math.min(emittedChars, all.length()));
        emittedChars = 0;
        emit(all);
        return rest;
    }

    /** Copy of the token ids pushed so far. */
    public int[] generated() {
        return Arrays.copyOf(ids, count);
    }

    private String emit(String delta) {
        emittedChars += delta.length();
        readOffset = count;
        prefixOffset = Math.max(0, count - CONTEXT_TOKENS);
        prefixText = decode(prefixOffset, readOffset);
        return delta;
    }

    /**
     * Whether the last token that reaches the decoder is a byte token: a later byte token can still
     * turn the whole run into U+FFFD (skipped special tokens do not end a run; the decoder never sees them).
     */
    private boolean inByteRun() {
        for (int i = count - 1; i >= 0; i--) {
            int id = ids[i];
            if (skipSpecialTokens && tokenizer.isSpecial(id)) continue;
            return tokenizer.isByteFallback(id);
        }
        return false;
    }

    /** The decoder turns a character cut short at the end into U+FFFD; more bytes may complete it. */
    private static boolean incomplete(String text) {
        return !text.isEmpty() && text.charAt(text.length() - 1) == REPLACEMENT;
    }

    private String decode(int from, int to) {
        return tokenizer.decode(Arrays.copyOfRange(ids, from, to), skipSpecialTokens);
    }
}
