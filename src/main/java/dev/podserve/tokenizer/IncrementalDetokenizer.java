package dev.podserve.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * Turns generated tokens into text as they arrive. What {@link #push} returns is final: it never
 * ends in a partial UTF-8 character (a token may carry one byte of a character whose other bytes
 * come in later tokens) and is never revised. All pushes plus {@link #flush} concatenate to
 * exactly what the generated tokens add to the text of the prompt's last few tokens:
 * {@code decode(tail + generated)} after {@code decode(tail)}.
 *
 * <p>A token's text can depend on its neighbours (SentencePiece drops the space of the first token
 * of a decode; some decoders merge byte tokens), so each push decodes a window that starts a few
 * tokens before the unread ones and emits only what the new tokens add to it. The window starts in
 * the prompt, as vLLM's detokenizer is primed with it: a Llama-2 or Mistral completion of "The
 * capital of France is" then begins " Paris", not "Paris", and prompt plus completion ({@code echo})
 * reads right. A prompt whose tail ends inside a character (its decode ends in U+FFFD), or in a
 * byte-fallback token, does not prime the window: output bytes can join or break that run (a
 * broken run decodes to one U+FFFD per byte, the prompt's bytes included), which would rewrite the
 * prompt's text and hold the whole stream back until the end. Not thread-safe; one per request.
 */
public final class IncrementalDetokenizer {

    /** Tokens of already-emitted text kept in the window as left context. */
    private static final int CONTEXT_TOKENS = 5;
    private static final char REPLACEMENT = '\uFFFD';

    private final HfTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    /** [tail of the prompt, generated tokens...]: the prompt's part is the left context of the first window. */
    private int[] ids = new int[32];
    private int count;
    /** Where the generated tokens start in {@link #ids}. */
    private final int outputStart;
    /** decode(ids[0, outputStart)): the text the prompt's tail adds, which is not output. */
    private final String tailText;
    /** Start of the decode window. */
    private int prefixOffset;
    /** Tokens before this are emitted. */
    private int readOffset;
    /** decode(ids[prefixOffset, readOffset)). */
    private String prefixText = "";
    /** Length of all text returned so far. */
    private int emittedChars;

    /**
     * @param promptIds the prompt these tokens continue; its last few tokens are the first window's left context
     */
    public IncrementalDetokenizer(HfTokenizer tokenizer, int[] promptIds, boolean skipSpecialTokens) {
        this.tokenizer = Objects.requireNonNull(tokenizer);
        this.skipSpecialTokens = skipSpecialTokens;
        int[] tail = Arrays.copyOfRange(promptIds, Math.max(0, promptIds.length - CONTEXT_TOKENS), promptIds.length);
        String text = tokenizer.decode(tail, skipSpecialTokens);
        if (incomplete(text) || endsInByteRun(tokenizer, tail, tail.length, skipSpecialTokens)) {
            tail = new int[0];
            text = "";
        }
        System.arraycopy(tail, 0, ids, 0, tail.length);
        this.count = tail.length;
        this.outputStart = tail.length;
        this.readOffset = tail.length;
        this.tailText = text;
        this.prefixText = text;
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
        // The tail's own text, unless a decoder rewrote it across the prompt's end (then only the
        // part both share is the prompt's).
        int start = sharedPrefix(all, tailText);
        String rest = all.substring(Math.min(start + emittedChars, all.length()));
        return emit(rest);
    }

    /** Copy of the token ids pushed so far. */
    public int[] generated() {
        return Arrays.copyOfRange(ids, outputStart, count);
    }

    private static int sharedPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        // Never end between the two halves of a surrogate pair.
        if (i > 0 && i < n && Character.isHighSurrogate(a.charAt(i - 1))) i--;
        return i;
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
        return endsInByteRun(tokenizer, ids, count, skipSpecialTokens);
    }

    /** Whether the last of tokens[0, length) that reaches the decoder is a byte-fallback token. */
    private static boolean endsInByteRun(HfTokenizer tokenizer, int[] tokens, int length, boolean skipSpecialTokens) {
        for (int i = length - 1; i >= 0; i--) {
            int id = tokens[i];
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
