package dev.podserve.sampling;

import java.util.Arrays;
import java.util.List;

/**
 * vLLM's {@code bad_words} as token bans, one step at a time. Each word is a token sequence; the
 * output may never complete one. A word of one token is therefore banned at every step, and a longer
 * word bans only its last token, at a step where the output so far ends with the word's other tokens.
 * Only generated tokens are matched, as vLLM matches them: the prompt never completes a prefix, so a
 * word the prompt began may still be finished by the first tokens out.
 *
 * <p>Immutable; the per-request history it reads is {@link SamplingState}'s.
 */
final class WordBans {

    /** The one-token words' ids: banned at every step. Sorted, distinct. */
    private final int[] always;
    /** The words of two or more tokens. */
    private final int[][] longer;
    /** Output tokens a step needs to look back on: the longest word less its last token. */
    private final int lookBack;

    private WordBans(int[] always, int[][] longer) {
        this.always = always;
        this.longer = longer;
        int back = 0;
        for (int[] w : longer) back = Math.max(back, w.length - 1);
        this.lookBack = back;
    }

    /** Null for no words; the words must be validated ({@link SamplingParams#validate}). */
    static WordBans of(List<List<Integer>> words) {
        if (words == null || words.isEmpty()) return null;
        int[] always = words.stream().filter(w -> w.size() == 1).mapToInt(w -> w.get(0)).distinct().sorted().toArray();
        int[][] longer = words.stream().filter(w -> w.size() > 1)
                .map(w -> w.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
        return new WordBans(always, longer);
    }

    /** How many of the latest output tokens {@link #after} reads; 0 when every word is one token. */
    int lookBack() {
        return lookBack;
    }

    /**
     * The ids banned at the step after the output {@code output[0, length)}, sorted and distinct.
     * The array returned may be shared: callers do not write it.
     */
    int[] after(int[] output, int length) {
        if (longer.length == 0) return always;
        int[] out = Arrays.copyOf(always, always.length + longer.length);
        int n = always.length;
        for (int[] w : longer) {
            int prefix = w.length - 1;
            if (prefix > length) continue;
            if (Arrays.equals(output, length - prefix, length, w, 0, prefix)) out[n++] = w[prefix];
        }
        if (n == always.length) return always;
        int[] banned = Arrays.copyOf(out, n);
        Arrays.sort(banned);
        return distinctSorted(banned);
    }

    private static int[] distinctSorted(int[] sorted) {
        int n = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (i == 0 || sorted[i] != sorted[i - 1]) sorted[n++] = sorted[i];
        }
        return n == sorted.length ? sorted : Arrays.copyOf(sorted, n);
    }
}
