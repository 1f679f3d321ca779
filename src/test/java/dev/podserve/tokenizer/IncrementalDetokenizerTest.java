package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IncrementalDetokenizerTest {

    private final HfTokenizer tiny = TestTokenizers.tiny();

    @Test
    void randomByteTokensStreamToTheWholeDecode() {
        Random random = new Random(11);
        for (int n = 0; n < 2000; n++) {
            int[] ids = new int[1 + random.nextInt(40)];
            for (int i = 0; i < ids.length; i++) {
                // Mostly bytes of multi-byte characters (valid, cut short, or stray), some ASCII and special tokens.
                int kind = random.nextInt(10);
                ids[i] = kind < 6 ? 0x80 + random.nextInt(0x80) : kind < 9 ? random.nextInt(0x80) : 256 + random.nextInt(3);
            }
            assertStreamsExactly(tiny, ids, random.nextBoolean());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"héllo wörld", "😀🎉👍🏽 family: 👨‍👩‍👧", "中文字符 日本語 한국어", "e\u0301 a\u0308 n\u0303", "𝕏𝔸 math",
            "mixed: ASCII, Кириллица, العربية, עברית, ไทย"})
    void validTextSplitIntoSingleBytesNeverEmitsPartialCharacters(String text) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[] {1, 2, 3}, false);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder streamed = new StringBuilder();
        for (byte b : bytes) {
            String piece = detok.push(b & 0xFF);
            assertThat(piece).doesNotContain("\uFFFD");
            // Each piece is whole characters: it survives a UTF-8 round trip unchanged.
            assertThat(new String(piece.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(piece);
            if (!piece.isEmpty()) assertThat(Character.isLowSurrogate(piece.charAt(0))).isFalse();
            streamed.append(piece);
        }
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(detok.flush()).isEmpty();
    }

    @Test
    void aCharacterAppearsWithItsLastByte() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[0], false);
        List<String> pieces = new ArrayList<>();
        for (int b : TestTokenizers.utf8("a😀b")) pieces.add(detok.push(b));
        assertThat(pieces).containsExactly("a", "", "", "", "😀", "b");
        assertThat(detok.flush()).isEmpty();
        assertThat(detok.generated()).containsExactly(TestTokenizers.utf8("a😀b"));
    }

    @Test
    void specialTokensAreKeptOrSkipped() {
        int[] ids = {TestTokenizers.IM_START, 'h', 'i', TestTokenizers.IM_END};
        assertThat(stream(tiny, ids, false)).isEqualTo("<|im_start|>hi<|im_end|>");
        assertThat(stream(tiny, ids, true)).isEqualTo("hi");
    }

    @Test
    void cutShortCharacterComesOutAtFlush() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[0], false);
        assertThat(detok.push('a')).isEqualTo("a");
        assertThat(detok.push(0xE4)).isEmpty();
        assertThat(detok.push(0xB8)).isEmpty();
        assertThat(detok.flush()).isEqualTo("\uFFFD");
    }

    @Test
    void nothingGeneratedIsNothing() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[] {5}, true);
        assertThat(detok.flush()).isEmpty();
        assertThat(detok.generated()).isEmpty();
    }

    @Test
    void sentencePieceKeepsSpacesBetweenWords(@TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, new int[] {1}, false);
            List<String> pieces = new ArrayList<>();
            for (String t : List.of("▁Hello", "▁world", "!", "▁the", "▁é")) pieces.add(detok.push(sp.tokenId(t).getAsInt()));
            pieces.add(detok.flush());
            assertThat(pieces).containsExactly("Hello", " world", "!", " the", " é", "");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void randomSentencePieceTokensStreamToTheWholeDecode(boolean legacy, @TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, legacy))) {
            int pieces = 3 + 256 + TestTokenizers.PIECES.size();
            Random random = new Random(legacy ? 3 : 4);
            for (int n = 0; n < 1500; n++) {
                int[] ids = new int[1 + random.nextInt(30)];
                for (int i = 0; i < ids.length; i++) {
                    int kind = random.nextInt(10);
                    // Word pieces, byte tokens (valid runs and broken ones), and the special tokens.
                    ids[i] = kind < 5 ? 259 + random.nextInt(pieces - 259) : kind < 9 ? 3 + random.nextInt(256) : random.nextInt(3);
                }
                assertStreamsExactly(sp, ids, random.nextBoolean());
            }
        }
    }

    @Test
    void byteFallbackRunIsHeldUntilItEnds(@TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            int a = sp.tokenId("<0x41>").getAsInt();
            int lead = sp.tokenId("<0xC3>").getAsInt();
            int world = sp.tokenId("▁world").getAsInt();
            // A lone "A" byte token decodes to "A", but followed by a stray lead byte the whole run is two U+FFFD.
            assertThat(stream(sp, new int[] {world, a, lead, world}, false)).isEqualTo("world\uFFFD\uFFFD world");
            IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, new int[0], false);
            assertThat(detok.push(world)).isEqualTo("world");
            assertThat(detok.push(a)).isEmpty();
            assertThat(detok.push(world)).isEqualTo("A world");
        }
    }

    private static String stream(HfTokenizer tok, int[] ids, boolean skip) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tok, new int[0], skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(detok.push(id));
        return sb.append(detok.flush()).toString();
    }

    private static void assertStreamsExactly(HfTokenizer tok, int[] ids, boolean skip) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tok, new int[] {7, 8}, skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(detok.push(id));
        sb.append(detok.flush());
        assertThat(sb.toString()).as("ids %s, skip %s", Arrays.toString(ids), skip).isEqualTo(tok.decode(ids, skip));
        assertThat(detok.generated()).containsExactly(ids);
    }
}
