package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import dev.podserve.tokenizer.HfTokenizer;

/**
 * {@code bad_words} become token sequences as vLLM makes them: the word without its leading blanks,
 * plus the same word after a space only where that form is another token sequence of the same length
 * starting with a different token; empty words, words that encode to nothing and too many sequences
 * are 400s naming the field.
 */
class BadWordTokensTest {

    /** A toy tokenizer: each listed piece is one token, any other character its code point. */
    private static Function<String, int[]> pieces(Map<String, Integer> vocab) {
        return text -> {
            List<Integer> out = new ArrayList<>();
            int i = 0;
            outer:
            while (i < text.length()) {
                for (int len = text.length() - i; len > 1; len--) {
                    Integer id = vocab.get(text.substring(i, i + len));
                    if (id != null) {
                        out.add(id);
                        i += len;
                        continue outer;
                    }
                }
                out.add((int) text.charAt(i++));
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        };
    }

    private static List<List<Integer>> of(Function<String, int[]> encode, String... words) {
        return BadWordTokens.of(List.of(words), encode);
    }

    @Test
    void theSpacedFormIsKeptOnlyWhereItIsAnotherWordOfTheSameLength() {
        // " cat" is a word token of its own: both forms banned.
        Function<String, int[]> enc = pieces(Map.of("cat", 1000, " cat", 1001, "dog", 1002, " o", 1004));
        assertThat(of(enc, "cat")).containsExactly(List.of(1000), List.of(1001));
        // " dog" is a space then the word: a longer sequence, dropped (the plain form already bans "dog").
        assertThat(of(enc, "dog")).containsExactly(List.of(1002));
        // " ox" is as long as "ox" ("o" "x" against " o" "x") and starts with another token: kept.
        assertThat(of(enc, "ox")).containsExactly(List.of((int) 'o', (int) 'x'), List.of(1004, (int) 'x'));
        // Leading blanks go before both forms, Python's way (a no-break space counts).
        assertThat(of(enc, " \t\u00a0cat")).containsExactly(List.of(1000), List.of(1001));
        // A word sent twice is banned once.
        assertThat(of(enc, "cat", "dog", "cat")).containsExactly(List.of(1000), List.of(1001), List.of(1002));
        // Same first token and length: the spaced form adds nothing and is dropped.
        Function<String, int[]> folds = text -> pieces(Map.of("ab", 7)).apply(text.strip());
        assertThat(of(folds, "ab")).containsExactly(List.of(7));
    }

    @Test
    void theEmbeddedByteTokenizerBansTheBytesAsWritten() {
        HfTokenizer tiny = HfTokenizer.load(embeddedModel());
        // Byte-level without merges: " th" is one token longer than "th", so only the plain form stays.
        assertThat(BadWordTokens.of(List.of("th", "e"), tiny::encodeNoSpecial))
                .containsExactly(List.of((int) 't', (int) 'h'), List.of((int) 'e'));
        // A special token written in a word is its id, as vLLM's encode gives it.
        assertThat(BadWordTokens.of(List.of("<|im_end|>"), tiny::encodeNoSpecial)).containsExactly(List.of(258));
    }

    @Test
    void badWordsThatCannotBeBannedAreRefusedNamingTheField() {
        Function<String, int[]> enc = pieces(Map.of());
        for (List<String> words : List.of(List.of(""), List.of("  "), List.of("a", "\t"))) {
            assertThatThrownBy(() -> BadWordTokens.of(words, enc)).isInstanceOf(ApiException.class)
                    .extracting("param").isEqualTo("bad_words");
        }
        List<String> nulls = new ArrayList<>();
        nulls.add(null);
        assertThatThrownBy(() -> BadWordTokens.of(nulls, enc)).isInstanceOf(ApiException.class).extracting("param").isEqualTo("bad_words");
        List<String> many = new ArrayList<>();
        for (int i = 0; i <= BadWordTokens.MAX_SEQUENCES; i++) many.add("w" + i);
        assertThatThrownBy(() -> BadWordTokens.of(many, enc)).isInstanceOf(ApiException.class).extracting("param").isEqualTo("bad_words");
        assertThatThrownBy(() -> BadWordTokens.of(List.of("x".repeat(BadWordTokens.MAX_TOKENS + 1)), enc))
                .isInstanceOf(ApiException.class).extracting("param").isEqualTo("bad_words");
        assertThat(BadWordTokens.of(many.subList(0, BadWordTokens.MAX_SEQUENCES), enc)).hasSize(BadWordTokens.MAX_SEQUENCES);
        assertThat(BadWordTokens.of(null, enc)).isEmpty();
    }

    private static Path embeddedModel() {
        try {
            return Path.of(BadWordTokensTest.class.getClassLoader().getResource("models/podserve-tiny/tokenizer.json").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
