package dev.podserve.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Function;

/**
 * Turns vLLM's {@code bad_words} into the token sequences the sampler bans, the way vLLM tokenizes
 * them, so a word is banned here where vLLM bans it. Each word is encoded without special tokens
 * twice: as written with its leading blanks removed, and with one space before it (the form the word
 * takes inside a sentence for tokenizers that fold a space into the next token). The spaced form is
 * kept only where it is a different word token of the same length as the plain form: where the
 * space comes out as a token of its own, or changes the split, the plain form already covers it or
 * the spaced form would ban a word that is not the client's.
 */
final class BadWordTokens {

    /** vLLM's {@code VLLM_MAX_NUM_BAD_WORDS} default: token sequences one request may ban. */
    static final int MAX_SEQUENCES = 128;
    /** vLLM's {@code VLLM_MAX_BAD_WORDS_TOTAL_TOKENS} default: their tokens in all (each step matches them). */
    static final int MAX_TOKENS = 1024;

    private BadWordTokens() {
    }

    /**
     * @param words  the request's {@code bad_words}; null or empty for none
     * @param encode the tokenizer, special tokens not added (text naming one still becomes its id, as in vLLM)
     * @return one token sequence per banned form, in the words' order; empty for none
     * @throws ApiException 400 naming {@code bad_words}: an empty or null word, a word that encodes to
     *                      nothing, or more sequences or tokens than the limits above
     */
    static List<List<Integer>> of(List<String> words, Function<String, int[]> encode) {
        if (words == null || words.isEmpty()) return List.of();
        List<List<Integer>> out = new ArrayList<>();
        int tokens = 0;
        // A word sent twice is banned once, as vLLM drops repeats before encoding.
        for (String word : new LinkedHashSet<>(words)) {
            if (word == null || word.isEmpty()) {
                throw ApiException.badRequest("bad_words", "bad_words cannot contain an empty string or null.");
            }
            String bare = stripLeadingBlanks(word);
            int[] plain = bare.isEmpty() ? new int[0] : encode.apply(bare);
            if (plain.length == 0) {
                throw ApiException.badRequest("bad_words", "bad_words entries must tokenize to at least one token; '"
                        + abbreviate(word) + "' does not.");
            }
            int[] spaced = encode.apply(" " + bare);
            List<int[]> forms = new ArrayList<>(2);
            forms.add(plain);
            if (spaced.length == plain.length && spaced[0] != plain[0]) forms.add(spaced);
            for (int[] form : forms) {
                out.add(Arrays.stream(form).boxed().toList());
                tokens += form.length;
                if (out.size() > MAX_SEQUENCES) {
                    throw ApiException.badRequest("bad_words", "bad_words give more than " + MAX_SEQUENCES
                            + " token sequences (a word may give two: as written and after a space).");
                }
                if (tokens > MAX_TOKENS) {
                    throw ApiException.badRequest("bad_words", "bad_words give more than " + MAX_TOKENS + " tokens in all.");
                }
            }
        }
        return out;
    }

    /**
     * Leading whitespace as Python's {@code str.lstrip()} sees it: Java's whitespace, the
     * no-break spaces (space separators Java does not count as whitespace) and U+0085.
     */
    static String stripLeadingBlanks(String s) {
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            if (!(Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85)) break;
            i += Character.charCount(c);
        }
        return s.substring(i);
    }

    private static String abbreviate(String word) {
        return word.length() <= 40 ? word : word.substring(0, 40) + "...";
    }
}
