package dev.podserve.structured;

import java.util.Arrays;
import java.util.List;

/**
 * Where a model's own tool-call format opens a call inside its free text: the points at which a
 * {@link OutputGrammar#triggered triggered grammar} starts to bind the output.
 *
 * @param texts     byte strings that open a value wherever they appear, split across tokens or not
 *                  ({@code <tool_call>}); the value's first byte may follow at once or after blanks
 * @param tokens    special token ids that open a value ({@code <|python_tag|>}, {@code [TOOL_CALLS]}):
 *                  their text is not in the vocabulary's bytes, so they are recognised by id
 * @param atStart   whether the output may itself begin with a value: its first byte that is not a
 *                  blank, if the value may begin with it, opens one (Llama 3's JSON calls)
 * @param separator bytes that open the next value when they follow one, blanks allowed before
 *                  them ({@code ;} between Llama 3's calls); null: only {@code texts} and {@code tokens} do
 */
public record ValueTriggers(List<byte[]> texts, int[] tokens, boolean atStart, byte[] separator) {

    public ValueTriggers {
        texts = List.copyOf(texts);
        for (byte[] t : texts) {
            if (t.length == 0) throw new IllegalArgumentException("an empty trigger text");
        }
        tokens = tokens.clone();
        Arrays.sort(tokens);
        if (separator != null && separator.length == 0) throw new IllegalArgumentException("an empty separator");
        if (texts.isEmpty() && tokens.length == 0 && !atStart) throw new IllegalArgumentException("nothing opens a value");
    }

    boolean isToken(int token) {
        return Arrays.binarySearch(tokens, token) >= 0;
    }

    /** Length of the longest trigger text; 0 with none. */
    int longestText() {
        int n = 0;
        for (byte[] t : texts) n = Math.max(n, t.length);
        return n;
    }
}
