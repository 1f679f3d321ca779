package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class StopStringMatcherTest {

    @Test
    void stopStringSplitAcrossPiecesIsNeverEmitted() {
        StopStringMatcher m = new StopStringMatcher(List.of("STOP"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("hello S", "T", "O", "P and more")) {
            out.append(m.offer(piece, true));
            if (m.stopped()) break;
        }
        assertThat(m.stopped()).isTrue();
        assertThat(out.toString()).isEqualTo("hello ");
    }

    @Test
    void falseStartIsReleasedOnceItCannotMatch() {
        StopStringMatcher m = new StopStringMatcher(List.of("abc"));
        assertThat(m.offer("xa", true)).isEqualTo("x");
        assertThat(m.offer("b", true)).isEqualTo("");
        assertThat(m.offer("d", true)).isEqualTo("abd");
        assertThat(m.finish("")).isEqualTo("");
        assertThat(m.stopped()).isFalse();
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("long stop", "x"));
        assertThat(m.offer("abc long stox", true)).isEqualTo("abc long sto");
        assertThat(m.stopped()).isTrue();
        // The stop_reason names the string the text was cut at, not the first one listed.
        assertThat(m.stoppedAt()).isEqualTo("x");
        assertThat(m.offer("more", true)).isEmpty();
    }

    /** Of two stop strings starting at the same place, the shorter completed first and is the one named. */
    @Test
    void theStopStringNamedIsTheOneThatEndedTheText() {
        StopStringMatcher m = new StopStringMatcher(List.of("ab", "a"), true);
        assertThat(m.stoppedAt()).isNull();
        assertThat(m.offer("xab", true)).isEqualTo("xa");
        assertThat(m.stoppedAt()).isEqualTo("a");
    }

    @Test
    void noStopsMeansNothingHeldBack() {
        StopStringMatcher m = new StopStringMatcher(List.of());
        assertThat(m.offer("abc", true)).isEqualTo("abc");
        assertThat(m.finish("d")).isEqualTo("d");
    }

    @Test
    void notSearchingBeforeMinTokensStillHoldsBack() {
        StopStringMatcher m = new StopStringMatcher(List.of("ab"));
        assertThat(m.offer("xab", false)).isEqualTo("xab");
        assertThat(m.stopped()).isFalse();
        assertThat(m.offer("xa", false)).isEqualTo("x");
        assertThat(m.offer("b", true)).isEqualTo("");
        assertThat(m.stopped()).isTrue();
    }

    /**
     * Text from before min_tokens never stops the generation by itself: here its "\n" was held back
     * only because it might have grown into "\n\n", and the first searched offer must not match it.
     * A stop that starts in the old text and ends in the new one does count.
     */
    @Test
    void heldTextFromBeforeMinTokensOnlyCountsWhereAStopEndsInNewText() {
        StopStringMatcher m = new StopStringMatcher(List.of("\n\n", "\n"));
        assertThat(m.offer("abc\n", false)).isEqualTo("abc");
        assertThat(m.offer("def", true)).isEqualTo("\ndef");
        assertThat(m.stopped()).isFalse();
        assertThat(m.offer("g\n", true)).isEqualTo("g");
        assertThat(m.stopped()).isTrue();

        StopStringMatcher across = new StopStringMatcher(List.of("xyz"));
        assertThat(across.offer("axy", false)).isEqualTo("a");
        assertThat(across.offer("zb", true)).isEmpty();
        assertThat(across.stopped()).isTrue();
    }

    @Test
    void surrogatePairsAreNotSplit() {
        String emoji = "\uD83D\uDE00";
        StopStringMatcher m = new StopStringMatcher(List.of(emoji + "!"));
        String out = m.offer("a" + emoji, true);
        assertThat(out).isEqualTo("a");
        assertThat(out + m.finish("")).isEqualTo("a" + emoji);
    }

    /**
     * Random text, random piece boundaries: output is the text up to the first stop, exactly, or
     * through it where the request keeps it (include_stop_str_in_output).
     */
    @Test
    void randomPiecesMatchWholeTextSearch() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 4000; trial++) {
            boolean keep = trial % 2 == 1;
            StringBuilder text = new StringBuilder();
            int len = rnd.nextInt(40);
            for (int i = 0; i < len; i++) text.append((char) ('a' + rnd.nextInt(3)));
            List<String> stops = List.of("abca".substring(0, 1 + rnd.nextInt(4)), "cc");
            int expectedCut = -1, expectedLength = 0;
            for (String s : stops) {
                int at = text.indexOf(s);
                if (at >= 0 && (expectedCut < 0 || at < expectedCut || (at == expectedCut && s.length() < expectedLength))) {
                    expectedCut = at;
                    expectedLength = s.length();
                }
            }
            StopStringMatcher m = new StopStringMatcher(stops, keep);
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < text.length() && !m.stopped()) {
                int j = Math.min(text.length(), i + 1 + rnd.nextInt(4));
                out.append(m.offer(text.substring(i, j), true));
                i = j;
            }
            if (!m.stopped()) out.append(m.finish(""));
            String expected = expectedCut < 0 ? text.toString() : text.substring(0, expectedCut + (keep ? expectedLength : 0));
            assertThat(out.toString()).as("text %s stops %s keep %s", text, stops, keep).isEqualTo(expected);
            assertThat(m.stopped()).isEqualTo(expectedCut >= 0);
        }
    }

    /** Kept, the stop string ends the text, whole, however it was split; what follows it still goes. */
    @Test
    void aKeptStopStringEndsTheText() {
        StopStringMatcher m = new StopStringMatcher(List.of("END"), true);
        assertThat(m.offer("abc E", true)).isEqualTo("abc ");
        assertThat(m.offer("N", true)).isEmpty();
        assertThat(m.offer("D and more", true)).isEqualTo("END");
        assertThat(m.stopped()).isTrue();
        assertThat(m.finish("tail")).isEmpty();
    }
}
